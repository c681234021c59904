/* cmd_fwimg.c - `ek3 fwimg`: signed firmware images (firmware/boot/fwimg.h,
 * hil_bridge/fwsign.h, docs/update.md): make a key, build and sign an
 * image, show one, verify one as a module would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "board.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "fwimg.h"
#include "fwsign.h"
#include "mbedtls/sha256.h"

#define CFW_MAX_FILE (16u * 1024u * 1024u) /* larger than any slot: a payload or an image */

static void cfw_hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", b[i]);
}

/* A whole file into *buf (malloc'd); *n its size. CLI_OK, or CLI_USAGE
 * after a message naming the file (missing, unreadable, too large). */
static int cfw_slurp(const char *w, const char *what, const char *path, uint8_t **buf, size_t *n)
{
    FILE *f = cli_open_in(path);
    if (!f)
        return cli_usage_error(w, "%s %s: %s", what, path, strerror(errno));
    uint8_t *b = malloc(CFW_MAX_FILE + 1);
    if (!b) {
        fclose(f);
        return cli_fail(w, "out of memory");
    }
    size_t got = fread(b, 1, CFW_MAX_FILE + 1, f);
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (err || got > CFW_MAX_FILE) {
        free(b);
        return err ? cli_usage_error(w, "%s %s: a read error", what, path)
                   : cli_usage_error(w, "%s %s: larger than %u bytes", what, path, CFW_MAX_FILE);
    }
    *buf = b;
    *n = got;
    return CLI_OK;
}

/* A counter this high leaves little room for later releases: said. */
#define CFW_SECURITY_WARN 0x10000u

/* Write n bytes to f, opened on path, and close it (either way); CLI_OK
 * or CLI_FAIL after "PATH: write error: WHY" (the errno of the write that
 * failed: a full device is "No space left on device", not the EIO a later
 * close reports). */
static int cfw_put(const char *w, FILE *f, const char *path, const uint8_t *b, size_t n)
{
    errno = 0;
    if (fwrite(b, 1, n, f) < n || fflush(f)) {
        int e = errno ? errno : EIO;
        fclose(f);
        return cli_fail(w, "%s: write error: %s", path, strerror(e));
    }
    return cli_close_out(w, f, path);
}

/* cfw_put into path, created (or "PATH: cannot create: WHY"). */
static int cfw_write(const char *w, const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return cli_fail(w, "%s: cannot create: %s", path, strerror(errno));
    return cfw_put(w, f, path, b, n);
}

/* The hardware id as hex and, when printable, as its four characters
 * ("G474" for 0x34373447). */
static void cfw_print_hw(FILE *f, uint32_t id)
{
    char c[5];
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        c[i] = (char)(id >> (8 * i));
        ok &= c[i] >= 0x20 && c[i] < 0x7f;
    }
    c[4] = '\0';
    fprintf(f, "0x%08x", id);
    if (ok)
        fprintf(f, " (\"%s\")", c);
}

/* --hw's value: a number (0x34373447) or the four characters
 * cfw_print_hw shows ("G474": the id's bytes from the lowest). 0 or
 * EK3_EPARSE. */
static int cfw_parse_hw(const char *v, uint32_t *id)
{
    uint64_t u;
    if (!cli_parse_u64(v, UINT32_MAX, &u)) {
        *id = (uint32_t)u;
        return 0;
    }
    if (strlen(v) != 4)
        return EK3_EPARSE;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        if (v[i] < 0x21 || v[i] >= 0x7f)
            return EK3_EPARSE;
        x |= (uint32_t)(unsigned char)v[i] << (8 * i);
    }
    *id = x;
    return 0;
}

#define CFW_HW_ERROR                                                                                                   \
    "--hw '%s': a 32-bit hardware id: a number or its four characters (0x34373447 or G474 for the EK3 module)"

/* The public key's path beside a private key's: K.pem -> K.pub.pem. */
static void cfw_pub_path(const char *priv, char *out, size_t cap)
{
    size_t n = strlen(priv);
    if (n > 4 && !strcmp(priv + n - 4, ".pem"))
        snprintf(out, cap, "%.*s.pub.pem", (int)(n - 4), priv);
    else
        snprintf(out, cap, "%s.pub.pem", priv);
}

static int cfw_keygen(int argc, char **argv)
{
    const char *w = "fwimg keygen", *out = NULL, *pub = NULL, *miss = NULL;
    int force = 0;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 fwimg keygen --out KEY.pem [--pub PUB.pem] [--force]\n\n"
                 "Make a fresh P-256 signing key: the private key in PEM (SEC1, as `openssl\n"
                 "ecparam -name prime256v1 -genkey` writes it; mode 0600) at KEY.pem, and its\n"
                 "public key (SubjectPublicKeyInfo PEM) at PUB.pem, by default KEY.pub.pem.\n"
                 "Prints the key id that images signed with it carry. An existing file is not\n"
                 "replaced without --force.");
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--out") && cli_has_value(a, v, &miss))
            out = v, i++;
        else if (!strcmp(a, "--pub") && cli_has_value(a, v, &miss))
            pub = v, i++;
        else if (!strcmp(a, "--force"))
            force = 1;
        else
            return cli_bad_arg(w, a, miss);
    }
    if (!out)
        return cli_usage_error(w, "--out KEY.pem is needed: where the private key goes");
    char pubp[4096];
    int pub_given = pub != NULL;
    if (!pub) {
        cfw_pub_path(out, pubp, sizeof pubp);
        pub = pubp;
    }
    if (cli_same_file(out, pub))
        return cli_usage_error(w, "--out and --pub name one file (%s)", out);
    struct stat st;
    /* a key into a device or a pipe is a key lost (a /dev/null one left its public half in /dev): refused,
     * --force or not */
    int out_there = !stat(out, &st);
    if (out_there && !S_ISREG(st.st_mode))
        return cli_usage_error(w, "--out %s is not a regular file: the private key must be kept in one", out);
    int pub_there = !stat(pub, &st);
    if (!pub_given && pub_there && !S_ISREG(st.st_mode))
        return cli_usage_error(w, "--pub %s (the default, KEY.pub.pem) is not a regular file: give --pub", pub);
    if (!force && out_there)
        return cli_usage_error(w, "--out %s exists: a key is not replaced without --force", out);
    if (!force && pub_there)
        return cli_usage_error(w, "--pub %s exists: a key is not replaced without --force", pub);
    fwsign_key k;
    if (fwsign_keygen(&k))
        return cli_fail(w, "mbedTLS could not make a key (entropy?)");
    char why[512];
    int rc = fwsign_key_save(&k, out, pub, why, sizeof why);
    memset(&k.d, 0, sizeof k.d);
    if (rc)
        return cli_fail(w, "%s", why);
    uint8_t id[8];
    fwimg_key_id(k.pub, id);
    printf("%s: P-256 private key\n%s: its public key, key id ", out, pub);
    cfw_hex(stdout, id, sizeof id);
    putchar('\n');
    return CLI_OK;
}

static int cfw_build(int argc, char **argv)
{
    const char *w = "fwimg build", *key = NULL, *payload = NULL, *out = NULL, *miss = NULL;
    fwsign_meta m = {BRD_HW_ID, 0, 0, 0};
    int dev = 0;
    uint64_t u;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 fwimg build (--key KEY.pem | --dev-key) --payload FILE --version A.B.C\n"
                 "                       --security N [--hw ID] [--time S] --out IMG\n\n"
                 "Build a signed firmware image (docs/update.md): header, the payload (the\n"
                 "STM32G474 binary), trailer with SHA-256 of header and payload and the ECDSA\n"
                 "P-256 signature of that digest. KEY.pem is a P-256 private key in PEM or DER\n"
                 "(SEC1 or PKCS#8, unencrypted: `ek3 fwimg keygen` or `openssl ecparam -name\n"
                 "prime256v1 -genkey`); --dev-key signs with the rig's development key, which\n"
                 "no real module may trust. --version is major.minor.patch (0..65535, 0..255,\n"
                 "0..255); --security the anti-rollback counter (a module never boots an image\n"
                 "below its floor); --hw the board's id, a number or its four characters\n"
                 "(default 0x34373447: G474); --time the build time in s since the epoch\n"
                 "(default $SOURCE_DATE_EPOCH, else 0). An existing --out is replaced.\n"
                 "Signatures are deterministic (RFC 6979): the same inputs give the same image.");
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--key") && cli_has_value(a, v, &miss)) {
            key = v, i++;
        } else if (!strcmp(a, "--dev-key")) {
            dev = 1;
        } else if (!strcmp(a, "--payload") && cli_has_value(a, v, &miss)) {
            payload = v, i++;
        } else if (!strcmp(a, "--out") && cli_has_value(a, v, &miss)) {
            out = v, i++;
        } else if (!strcmp(a, "--version") && cli_has_value(a, v, &miss)) {
            int e = fwsign_version_parse(v, &m.version);
            if (e)
                return cli_usage_error(w, "--version '%s': %s", v,
                                       e == EK3_ERANGE ? "major 0..65535, minor and patch 0..255"
                                                       : "not major.minor.patch (e.g. 1.2.3)");
            i++;
        } else if (!strcmp(a, "--security") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, UINT32_MAX, &u))
                return cli_usage_error(w, "--security '%s': a counter, 0..%u", v, UINT32_MAX);
            m.security = (uint32_t)u, i++;
        } else if (!strcmp(a, "--hw") && cli_has_value(a, v, &miss)) {
            if (cfw_parse_hw(v, &m.hw_id))
                return cli_usage_error(w, CFW_HW_ERROR, v);
            i++;
        } else if (!strcmp(a, "--time") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, UINT64_MAX, &m.build_time))
                return cli_usage_error(w, "--time '%s': seconds since the epoch", v);
            i++;
        } else {
            return cli_bad_arg(w, a, miss);
        }
    }
    if (cli_exclusive(w, &seen, "--key", "--dev-key", "an image has one signer"))
        return CLI_USAGE;
    if (!key && !dev)
        return cli_usage_error(w, "--key KEY.pem (or --dev-key) is needed: who signs");
    if (!payload)
        return cli_usage_error(w, "--payload FILE is needed: the firmware binary");
    if (!cli_given(&seen, "--version"))
        return cli_usage_error(w, "--version A.B.C is needed");
    if (!cli_given(&seen, "--security"))
        return cli_usage_error(w, "--security N is needed: the anti-rollback counter");
    if (!out)
        return cli_usage_error(w, "--out IMG is needed");
    /* an image written over its own key or payload destroyed it, exit 0 */
    if (key && cli_same_file(out, key))
        return cli_usage_error(w, "--out %s is the --key file: the key would be overwritten", out);
    if (cli_same_file(out, payload))
        return cli_usage_error(w, "--out %s is the --payload file: it would be overwritten", out);
    if (!cli_given(&seen, "--time")) {
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        if (sde && *sde && cli_parse_u64(sde, UINT64_MAX, &m.build_time))
            return cli_usage_error(w, "SOURCE_DATE_EPOCH '%s': seconds since the epoch", sde);
    }
    fwsign_key k;
    char why[512];
    if (key) {
        int e = fwsign_key_load(key, &k, why, sizeof why);
        if (e)
            return cli_usage_error(w, "--key %s", why);
    } else {
        fwsign_dev_key(&k);
    }
    uint8_t *pay = NULL;
    size_t n = 0;
    int rc = cfw_slurp(w, "--payload", payload, &pay, &n);
    if (rc) {
        memset(k.d, 0, sizeof k.d);
        return rc;
    }
    if (n == 0) { /* signed, it would be an image a module boots into nothing */
        free(pay);
        memset(k.d, 0, sizeof k.d);
        return cli_usage_error(w, "--payload %s: empty: an image carries the firmware binary", payload);
    }
    if (FWSIGN_SIZE(n) > BRD_SLOT_SIZE) {
        free(pay);
        memset(k.d, 0, sizeof k.d);
        return cli_usage_error(w, "--payload %s: %zu bytes: the image (%zu bytes) would not fit a slot of %u bytes",
                               payload, n, FWSIGN_SIZE(n), BRD_SLOT_SIZE);
    }
    uint8_t *img = malloc(FWSIGN_SIZE(n));
    size_t len = 0;
    rc = img ? fwsign_build(&k, &m, pay, (uint32_t)n, img, FWSIGN_SIZE(n), &len) : EK3_ENOSPC;
    memset(k.d, 0, sizeof k.d);
    free(pay);
    if (rc) {
        free(img);
        return cli_fail(w, "cannot sign: %s", ek3_strerror(rc));
    }
    rc = cfw_write(w, out, img, len);
    if (!rc) {
        printf("%s: %zu bytes, version ", out, len);
        fwsign_version_print(stdout, m.version);
        printf(", security %u, key id ", m.security);
        cfw_hex(stdout, img + 32, 8);
        putchar('\n');
        /* the floor rises to a confirmed image's counter and never falls */
        if (m.security >= CFW_SECURITY_WARN)
            fprintf(stderr,
                    "%s: warning: security %u: a module that confirms this image raises its floor to %u and then "
                    "refuses every image with a lower counter (raise it by one per release that must not be "
                    "rolled back; %u is the most)\n",
                    w, m.security, m.security, UINT32_MAX);
    }
    free(img);
    return rc;
}

/* Remove path when it is a regular file (never a device: /dev/null). */
static void cfw_unlink_reg(const char *path)
{
    struct stat st;
    if (!lstat(path, &st) && S_ISREG(st.st_mode))
        remove(path);
}

/* An output created and not written: closed, and removed when it is a
 * regular file (never a device: --signed /dev/null); f NULL: none. */
static void cfw_discard(FILE *f, const char *path)
{
    if (f) {
        fclose(f);
        cfw_unlink_reg(path);
    }
}

static int cfw_inspect(int argc, char **argv)
{
    const char *w = "fwimg inspect", *path = NULL, *der = NULL, *body = NULL, *miss = NULL;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 fwimg inspect IMG [--signed BODY] [--sig-der SIG.der]\n\n"
                 "Show an image's header (hardware id, version, security counter, payload\n"
                 "size, build time, signing key id), its trailer (algorithm, digest, signature)\n"
                 "and whether the digest matches the bytes; nothing is trusted or refused here\n"
                 "(`ek3 fwimg verify` does that). --signed writes the signed bytes (header and\n"
                 "payload) and --sig-der the signature as DER, so that OpenSSL checks it:\n"
                 "  openssl dgst -sha256 -verify PUB.pem -signature SIG.der BODY\n"
                 "Exit 0, 1 when the file is not an image (its shape), 2 for bad input.");
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--signed") && cli_has_value(a, v, &miss))
            body = v, i++;
        else if (!strcmp(a, "--sig-der") && cli_has_value(a, v, &miss))
            der = v, i++;
        else if ((a[0] != '-' || !a[1]) && !path)
            path = a;
        else
            return cli_bad_arg(w, a, miss);
    }
    if (!path)
        return cli_usage_error(w, "which image? ek3 fwimg inspect IMG");
    /* an export written over the image (or the other export) destroyed it, exit 0 */
    int over_body = body && cli_same_file(body, path);
    if (over_body || (der && cli_same_file(der, path)))
        return cli_usage_error(w, "--%s %s is the image: it would be overwritten", over_body ? "signed" : "sig-der",
                               over_body ? body : der);
    if (body && der && cli_same_file(body, der))
        return cli_usage_error(w, "--signed and --sig-der name one file (%s)", body);
    uint8_t *img;
    size_t n;
    int rc = cfw_slurp(w, "image", path, &img, &n);
    if (rc)
        return rc;
    /* The outputs are created before anything is shown, so that one that
     * cannot be is said first (the inspection printed, then the error);
     * one left unwritten by a later failure is removed. */
    FILE *fb = NULL, *fd = NULL;
    if ((body && !(fb = fopen(body, "wb"))) || (der && !(fd = fopen(der, "wb")))) {
        int e = errno;
        const char *bad = body && !fb ? body : der;
        cfw_discard(fb, body);
        free(img);
        return cli_fail(w, "%s: cannot create: %s", bad, strerror(e));
    }
    fwimg_hdr h;
    fwimg_why why;
    if (fwimg_parse_hdr(img, n, NULL, &h, &why)) {
        free(img);
        cfw_discard(fb, body), cfw_discard(fd, der);
        return cli_fail(w, "%s: not an image: %s (%s)", path, fwimg_why_name(why),
                        why == FWIMG_TRUNCATED ? "shorter than a header" : "in the header");
    }
    size_t body_n = FWIMG_HDR_SIZE + (size_t)h.payload_size, total = body_n + FWIMG_TRL_SIZE;
    printf("image         %s, %zu bytes (header %u + payload %u + trailer %u = %zu)\n", path, n, FWIMG_HDR_SIZE,
           h.payload_size, FWIMG_TRL_SIZE, total);
    printf("format        %u\nhardware      ", h.format);
    cfw_print_hw(stdout, h.hw_id);
    printf("\nversion       ");
    fwsign_version_print(stdout, h.version);
    printf(" (0x%06x)\nsecurity      %u\npayload       %u bytes\nbuild time    %llu s\nkey id        ", h.version,
           h.security, h.payload_size, (unsigned long long)h.build_time);
    cfw_hex(stdout, h.key_id, sizeof h.key_id);
    putchar('\n');
    if (n < total) {
        printf("trailer       missing: the file ends %zu bytes short\n", total - n);
        free(img);
        cfw_discard(fb, body), cfw_discard(fd, der);
        return cli_fail(w, "%s: truncated: %zu bytes, the header says %zu", path, n, total);
    }
    const uint8_t *t = img + body_n;
    uint32_t tm = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    uint32_t alg = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
    uint8_t dig[32];
    if (mbedtls_sha256_ret(img, body_n, dig, 0)) {
        free(img);
        cfw_discard(fb, body), cfw_discard(fd, der);
        return cli_fail(w, "mbedTLS's SHA-256 failed");
    }
    printf("trailer       at %zu, magic %s, algorithm %u (%s)\n", body_n, tm == FWIMG_TMAGIC ? "ok" : "BAD", alg,
           alg == FWIMG_SIG_ECDSA_P256 ? "ECDSA P-256" : alg == 0 ? "unsigned" : "unknown");
    printf("sha256        ");
    cfw_hex(stdout, t + FWIMG_TRL_SHA_OFF, 32);
    printf(" (%s)\nsignature     ", memcmp(dig, t + FWIMG_TRL_SHA_OFF, 32) ? "does NOT match the bytes" : "matches the bytes");
    cfw_hex(stdout, t + FWIMG_TRL_SIG_OFF, 64);
    putchar('\n');
    if (n > total)
        printf("after         %zu bytes past the trailer (not part of the image)\n", n - total);
    rc = CLI_OK;
    if (fb)
        rc = cfw_put(w, fb, body, img, body_n);
    if (fd && rc)
        cfw_discard(fd, der);
    else if (fd) {
        uint8_t d[72];
        size_t dn;
        fwsign_sig_der(t + FWIMG_TRL_SIG_OFF, d, sizeof d, &dn);
        if ((rc = cfw_put(w, fd, der, d, dn)) && body)
            cfw_unlink_reg(body); /* the pair is written whole or not at all */
    }
    free(img);
    return rc;
}

/* Where in the image a refusal's reason lies, for the message. */
static void cfw_where(fwimg_why why, int hdr_ok, const fwimg_hdr *h, size_t n, char *buf, size_t cap)
{
    size_t trl = FWIMG_HDR_SIZE + (size_t)h->payload_size;
    switch (why) {
    case FWIMG_TRUNCATED:
        if (n < FWIMG_HDR_SIZE)
            snprintf(buf, cap, "the file is %zu bytes, shorter than a %u-byte header", n, FWIMG_HDR_SIZE);
        else
            snprintf(buf, cap,
                     "the file is %zu bytes, the header says %zu (a %u-byte payload, payload_size at offset 20)", n,
                     trl + FWIMG_TRL_SIZE, h->payload_size);
        break;
    case FWIMG_BAD_MAGIC:
        if (hdr_ok)
            snprintf(buf, cap, "the trailer's magic at offset %zu", trl);
        else
            snprintf(buf, cap, "the header's magic at offset 0");
        break;
    case FWIMG_BAD_FORMAT:
        if (hdr_ok)
            snprintf(buf, cap, "the trailer's algorithm at offset %zu", trl + FWIMG_TRL_ALG_OFF);
        else
            snprintf(buf, cap, "the header's format at offset 4");
        break;
    case FWIMG_TOO_BIG: snprintf(buf, cap, "payload_size %u at offset 20", h->payload_size); break;
    case FWIMG_WRONG_HW: snprintf(buf, cap, "hw_id 0x%08x at offset 8", h->hw_id); break;
    case FWIMG_DOWNGRADE: snprintf(buf, cap, "security %u at offset 16", h->security); break;
    case FWIMG_UNSIGNED: snprintf(buf, cap, "the trailer's algorithm at offset %zu is 0", trl + FWIMG_TRL_ALG_OFF); break;
    case FWIMG_UNKNOWN_KEY: snprintf(buf, cap, "the header's key id at offset 32"); break;
    case FWIMG_BAD_HASH: snprintf(buf, cap, "the trailer's sha256 at offset %zu", trl + FWIMG_TRL_SHA_OFF); break;
    case FWIMG_BAD_SIGNATURE:
        snprintf(buf, cap, "the trailer's signature at offset %zu", trl + FWIMG_TRL_SIG_OFF);
        break;
    default: snprintf(buf, cap, "reading the image"); break;
    }
}

static int cfw_read_mem(void *ctx, uint32_t off, void *buf, size_t n)
{
    memcpy(buf, (const uint8_t *)ctx + off, n);
    return 0;
}

static int cfw_verify(int argc, char **argv)
{
    const char *w = "fwimg verify", *path = NULL, *pubp = NULL, *miss = NULL;
    int dev = 0;
    uint64_t u;
    fwimg_policy pol = {BRD_HW_ID, 0, BRD_SLOT_SIZE, NULL, NULL};
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 fwimg verify IMG (--pubkey PUB.pem | --dev-key) [--floor N] [--hw ID]\n"
                 "                        [--max-size BYTES]\n\n"
                 "Check an image as a module does before it boots or stages it (fwimg_verify,\n"
                 "the same code as the firmware's): the header's shape, the hardware id (--hw,\n"
                 "default 0x34373447 or G474), the security counter against the module's floor\n"
                 "(--floor, default 0), the size against a slot (--max-size, default 229376),\n"
                 "the signer's key id, the SHA-256 of header and payload, and the ECDSA P-256\n"
                 "signature with the trusted public key (PEM or DER, an OpenSSL one works;\n"
                 "--dev-key trusts the rig's development key).\n"
                 "Exit 0 when valid, 1 when refused (the reason and where it lies), 2 for bad input.");
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--pubkey") && cli_has_value(a, v, &miss)) {
            pubp = v, i++;
        } else if (!strcmp(a, "--dev-key")) {
            dev = 1;
        } else if (!strcmp(a, "--floor") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, UINT32_MAX, &u))
                return cli_usage_error(w, "--floor '%s': a security counter, 0..%u", v, UINT32_MAX);
            pol.min_security = (uint32_t)u, i++;
        } else if (!strcmp(a, "--hw") && cli_has_value(a, v, &miss)) {
            if (cfw_parse_hw(v, &pol.hw_id))
                return cli_usage_error(w, CFW_HW_ERROR, v);
            i++;
        } else if (!strcmp(a, "--max-size") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, UINT32_MAX, &u))
                return cli_usage_error(w, "--max-size '%s': bytes, 0..%u", v, UINT32_MAX);
            pol.max_size = (uint32_t)u, i++;
        } else if ((a[0] != '-' || !a[1]) && !path) {
            path = a;
        } else {
            return cli_bad_arg(w, a, miss);
        }
    }
    if (!path)
        return cli_usage_error(w, "which image? ek3 fwimg verify IMG --pubkey PUB.pem");
    if (cli_exclusive(w, &seen, "--pubkey", "--dev-key", "a module trusts one key"))
        return CLI_USAGE;
    if (!pubp && !dev)
        return cli_usage_error(w, "--pubkey PUB.pem (or --dev-key) is needed: the key the module trusts");
    uint8_t pub[FWIMG_PUBKEY_SIZE];
    char why_s[512];
    if (pubp) {
        if (fwsign_pub_load(pubp, pub, why_s, sizeof why_s))
            return cli_usage_error(w, "--pubkey %s", why_s);
        if (why_s[0])
            fprintf(stderr, "ek3 %s: warning: --pubkey %s\n", w, why_s);
        pol.pubkey = pub;
    } else {
        pol.pubkey = fwsign_dev_pubkey();
    }
    uint8_t *img;
    size_t n;
    int rc = cfw_slurp(w, "image", path, &img, &n);
    if (rc)
        return rc;
    fwimg_info info;
    fwimg_why why;
    rc = fwimg_verify(cfw_read_mem, img, (uint32_t)n, &pol, &info, &why);
    if (rc == EK3_EINVAL) {
        free(img);
        return cli_usage_error(w, "--pubkey %s: not a point of P-256", pubp ? pubp : "(development key)");
    }
    if (rc) {
        char where[160];
        fwimg_hdr h;
        fwimg_why hw;
        int hdr_ok = fwimg_parse_hdr(img, n, NULL, &h, &hw) == 0;
        cfw_where(why, hdr_ok, &h, n, where, sizeof where);
        printf("%s: REFUSED: %s: %s", path, fwimg_why_name(why), where);
        if (why == FWIMG_WRONG_HW)
            printf(" (this module is 0x%08x)", pol.hw_id);
        else if (why == FWIMG_DOWNGRADE)
            printf(" (the floor is %u)", pol.min_security);
        else if (why == FWIMG_TOO_BIG)
            printf(" (a slot holds %u bytes)", pol.max_size);
        else if (why == FWIMG_UNKNOWN_KEY) {
            uint8_t id[8];
            fwimg_key_id(pol.pubkey, id);
            printf(" (the image's ");
            cfw_hex(stdout, h.key_id, 8);
            printf(", the trusted key's ");
            cfw_hex(stdout, id, 8);
            printf(")");
        }
        putchar('\n');
        free(img);
        return CLI_FAIL;
    }
    printf("%s: valid: version ", path);
    fwsign_version_print(stdout, info.hdr.version);
    printf(", security %u, hardware 0x%08x, %u bytes, key id ", info.hdr.security, info.hdr.hw_id, info.total);
    cfw_hex(stdout, info.hdr.key_id, 8);
    printf(", sha256 ");
    cfw_hex(stdout, info.sha256, 32);
    putchar('\n');
    if (n > info.total)
        printf("%s: %zu bytes past the image's end are not part of it\n", path, n - info.total);
    free(img);
    return CLI_OK;
}

int cmd_fwimg(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"keygen", cfw_keygen, "make a P-256 signing key pair (PEM, OpenSSL-compatible)"},
        {"build", cfw_build, "build and sign an image: header, payload, SHA-256 and ECDSA P-256 trailer"},
        {"inspect", cfw_inspect, "show an image's header and trailer; export them for OpenSSL"},
        {"verify", cfw_verify, "check an image as a module would: hardware, floor, key, hash, signature"},
    };
    return cli_dispatch("fwimg", "Signed firmware images (docs/update.md).", cmds, sizeof cmds / sizeof cmds[0], argc,
                        argv);
}
