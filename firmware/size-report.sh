#!/bin/sh
# size-report.sh NM ELF MAP PROBE_OBJ OUT - flash and RAM of the firmware
# image, the kernel and the services separately, against the seed's
# budget (kernel < 32 KiB flash, ~8 KiB RAM; services ~80 KiB flash,
# 32 KiB RAM), and the image check (boot/fwimg.c with mbedTLS) apart from
# both. Writes the report to OUT and stdout; exits 1 when the
# kernel leaves its budget (services over theirs is a warning).
#
# Flash and static RAM come from the linker map (input sections kept
# after --gc-sections, by archive); the module context lives on main's
# stack, so its size comes from the probe object's symbol sizes.
set -eu
nm="$1" elf="$2" map="$3" probe="$4" out="$5"
KERNEL_FLASH_BUDGET=32768
KERNEL_RAM_BUDGET=8192
SERVICES_FLASH_BUDGET=81920
SERVICES_RAM_BUDGET=32768

for f in "$elf" "$map" "$probe"; do
    [ -r "$f" ] || { echo "size-report: cannot read $f" >&2; exit 2; }
done

probe_size() { # symbol -> its size in bytes (decimal)
    v=$("$nm" -S "$probe" | awk -v s="$1" '$4 == s { print $2 }')
    [ -n "$v" ] || { echo "size-report: $probe has no symbol $1" >&2; exit 2; }
    printf '%d\n' "0x$v"
}
sym_value() {
    v=$("$nm" "$elf" | awk -v s="$1" '$3 == s { print $1 }')
    [ -n "$v" ] || { echo "size-report: $elf has no symbol $1" >&2; exit 2; }
    printf '%d\n' "0x$v"
}

# class flash ram, one line per part, from the map.
parts=$(awk '
function hex(s,   i, n) {   # "0x1f" -> 31 (mawk has no strtonum)
    s = tolower(s); sub(/^0x/, "", s); n = 0;
    for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1;
    return n;
}
function cls(file) {
    if (file ~ /libek3_services\.a/) return "services";
    if (file ~ /libek3_protocol\.a/) return "protocol";
    if (file ~ /libek3_kernel\.a/) return "kernel";
    if (file ~ /libek3_drivers\.a/) return "drivers";
    if (file ~ /libek3_hal_g4\.a|main\.c\.obj/) return "hal";
    if (file ~ /libek3_soft_aes\.a|libek3_common\.a/) return "crypto";
    if (file ~ /libek3_fwimg\.a/) return "fwimg";
    if (file ~ /libek3_mbedcrypto\.a/) return "mbedtls";
    return "runtime";
}
function add(name, addr, size, file,   a, c) {
    a = hex(addr); size = hex(size);
    if (size == 0) return;
    c = (file == "") ? last : cls(file);
    last = c;
    if (a >= 134217728 && a < 134742016)    # flash 0x08000000..0x0807FFFF
        flash[c] += size;
    else if (a >= 536870912 && a < 537001984) {  # SRAM 0x20000000..0x2001FFFF
        ram[c] += size;
        if (name ~ /^\.data/) flash[c] += size;   # initial values
    }
}
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^[.\/]/ { split($0, w, " "); outsec = w[1]; keep = (outsec ~ /^\.(isr_vector|text|ARM\.exidx|data|bss)$/) }
!keep { pending = ""; next }
pending != "" {
    if ($1 ~ /^0x/ && NF >= 3) add(pending, $1, $2, $3);
    pending = "";
    next
}
/^ \*fill\*/ { if (NF >= 3) add("fill", $2, $3, ""); next }
/^ [.A-Z]/ {
    if (NF == 1) { pending = $1; next }
    if (NF >= 4 && $2 ~ /^0x/) add($1, $2, $3, $4);
}
END {
    split("kernel drivers hal crypto runtime services protocol fwimg mbedtls", order, " ");
    for (i = 1; i <= 9; i++) printf "%s %d %d\n", order[i], flash[order[i]], ram[order[i]];
}' "$map")

get() { echo "$parts" | awk -v c="$1" -v f="$2" '$1 == c { print $f }'; }

ctx_kernel=$(probe_size ek3_size_kernel)
ctx_hal=$(probe_size ek3_size_hal)
ctx_drv=$(probe_size ek3_size_drivers)
svc_state=0
for s in $("$nm" -S "$probe" | awk '$4 ~ /^ek3_size_svc_/ { print $4 }'); do
    svc_state=$((svc_state + $(probe_size "$s")))
done
pool=$(sym_value __jz_pool_size)
stack=$(sym_value __main_stack_size)

kf=0; kr=0
for c in kernel drivers hal crypto runtime; do
    kf=$((kf + $(get $c 2))); kr=$((kr + $(get $c 3)))
done
kr=$((kr + ctx_kernel + ctx_hal + ctx_drv))
sf=$(( $(get services 2) + $(get protocol 2) ))
sr=$(( $(get services 3) + $(get protocol 3) ))
bf=$(( $(get fwimg 2) + $(get mbedtls 2) ))
br=$(( $(get fwimg 3) + $(get mbedtls 3) ))

{
    echo "EK3 module firmware, STM32G474 (Cortex-M4F): size against the seed's budget"
    printf '%-34s %9s %9s\n' "part" "flash B" "RAM B"
    printf '  %-32s %9d %9d\n' "kernel/ (JEZGRO)" "$(get kernel 2)" "$(get kernel 3)"
    printf '  %-32s %9d %9d\n' "kernel context (jz_kernel)" 0 "$ctx_kernel"
    printf '  %-32s %9d %9d\n' "drivers/ (LLC_CONTROL, SAFETY)" "$(get drivers 2)" "$(get drivers 3)"
    printf '  %-32s %9d %9d\n' "driver context (drv_set)" 0 "$ctx_drv"
    printf '  %-32s %9d %9d\n' "hal/stm32g474 + main" "$(get hal 2)" "$(get hal 3)"
    printf '  %-32s %9d %9d\n' "hal context (g4hal)" 0 "$ctx_hal"
    printf '  %-32s %9d %9d\n' "AES-CMAC, error names" "$(get crypto 2)" "$(get crypto 3)"
    printf '  %-32s %9d %9d\n' "C runtime (newlib-nano, libgcc)" "$(get runtime 2)" "$(get runtime 3)"
    printf '%-34s %9d %9d   budget %d / %d\n' "kernel total" "$kf" "$kr" $KERNEL_FLASH_BUDGET $KERNEL_RAM_BUDGET
    printf '  %-32s %9d %9d\n' "services/" "$(get services 2)" "$(get services 3)"
    printf '  %-32s %9d %9d\n' "protocol/ (CAN-FD, SecOC)" "$(get protocol 2)" "$(get protocol 3)"
    printf '  %-32s %9s %9d\n' "service state in use" "" "$svc_state"
    printf '  %-32s %9s %9d\n' "service region pool (MPU)" "" "$pool"
    printf '%-34s %9d %9d   budget %d / %d\n' "services total (flash; pool)" "$sf" "$((sr + pool))" \
        $SERVICES_FLASH_BUDGET $SERVICES_RAM_BUDGET
    printf '  %-32s %9d %9d\n' "boot/fwimg (image check)" "$(get fwimg 2)" "$(get fwimg 3)"
    printf '  %-32s %9d %9d\n' "mbedTLS (SHA-256, ECDSA; heap)" "$(get mbedtls 2)" "$(get mbedtls 3)"
    printf '%-34s %9d %9d   (no budget in the seed)\n' "boot total (fwimg + mbedTLS)" "$bf" "$br"
    printf '%-34s %9s %9d\n' "main stack (holds the contexts)" "" "$stack"
} > "$out"
cat "$out"

status=0
if [ "$kf" -gt $KERNEL_FLASH_BUDGET ]; then
    echo "error: kernel flash $kf B is over its budget of $KERNEL_FLASH_BUDGET B" >&2; status=1
fi
if [ "$kr" -gt $KERNEL_RAM_BUDGET ]; then
    echo "error: kernel RAM $kr B is over its budget of $KERNEL_RAM_BUDGET B" >&2; status=1
fi
[ "$sf" -le $SERVICES_FLASH_BUDGET ] || echo "warning: services flash $sf B over $SERVICES_FLASH_BUDGET B" >&2
[ $((sr + pool)) -le $SERVICES_RAM_BUDGET ] || echo "warning: services RAM $((sr + pool)) B over $SERVICES_RAM_BUDGET B" >&2
exit $status
