/* cmd_audit.c - `ek3 audit`: a module's audit log, dumped from a rig run
 * and checked off line (firmware/services/audit_logger.h, docs/flash.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_logger.h"
#include "can_handler.h"
#include "can_id.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "host_crypto.h"
#include "inject.h"
#include "rig.h"

#define AUD_MAX_DUMP (1u << 20) /* 512 pages: more than any module's log area */

static void aud_hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", b[i]);
}

static const char *aud_type(unsigned t, char *buf, size_t cap)
{
    if (t < AUDIT_KIND_COUNT_)
        return audit_kind_name(t);
    if (ALOG_IS_CARRY(t))
        snprintf(buf, cap, "CARRY%u", t - ALOG_T_CARRY + 1u);
    else
        snprintf(buf, cap, t == ALOG_T_TRIP      ? "TRIP"
                          : t == ALOG_T_REFUSED ? "REFUSED"
                          : t == ALOG_T_UPDATE  ? "UPDATE"
                          : t == ALOG_T_EVENTS  ? "EVENTS"
                                                : "TYPE_%u",
                 t);
    return buf;
}

/* What verify's walk over the records does: print them (--list), and
 * find the station's head (--head) among their chain values. */
typedef struct aud_walk {
    FILE *list;           /* --list: where, else NULL */
    const uint8_t *head;  /* --head's bytes, or NULL */
    size_t head_n;
    int found;            /* the head is a record's chain value */
    uint32_t found_seq, last_seq;
} aud_walk;

static void aud_print(FILE *f, const alog_rec *r);

static void aud_each(void *ctx, const alog_rec *r)
{
    aud_walk *a = ctx;
    if (a->list)
        aud_print(a->list, r);
    if (a->head && !memcmp(r->chain, a->head, a->head_n))
        a->found = 1, a->found_seq = r->seq;
    a->last_seq = r->seq;
}

static void aud_print(FILE *f, const alog_rec *r)
{
    char tb[32];
    fprintf(f, "%8u  boot %-5u %14.6f s  %-13s ", r->seq, r->boot, (double)r->t_ns * 1e-9, aud_type(r->type, tb, sizeof tb));
    if (ALOG_IS_CARRY(r->type) && r->len >= ALOG_REC_HDR) {
        uint32_t seq = (uint32_t)r->payload[0] | (uint32_t)r->payload[1] << 8 | (uint32_t)r->payload[2] << 16 |
                       (uint32_t)r->payload[3] << 24;
        fprintf(f, "record %u, %s, ", seq, aud_type(r->payload[6], tb, sizeof tb));
    }
    int n = alog_event_count(r); /* a batch's, or a lone kernel event's (1) */
    if (n < 0)
        fputs("(events out of shape) ", f);
    else if (n > 0)
        fprintf(f, "%d event%s", n, n == 1 ? "" : "s");
    else
        aud_hex(f, r->payload, r->len);
    fputc('\n', f);
    /* A batch: one line per event, as a lone event's record would read. */
    for (int i = 0; i < n; i++) {
        alog_ev ev;
        if (alog_event(r, (unsigned)i, &ev) != EK3_OK) {
            fprintf(f, "          event %d out of shape\n", i);
            continue;
        }
        fprintf(f, "          event %-8u %14.6f s  %-13s svc %u reason %u arg %d resets %u\n", ev.ev_no,
                (double)ev.t_ns * 1e-9, aud_type(ev.kind, tb, sizeof tb), ev.svc, ev.reason, ev.arg, ev.resets);
    }
}

static int aud_verify(int argc, char **argv)
{
    const char *w = "audit verify", *path = NULL, *miss = NULL;
    uint8_t rack_key[16], head[16];
    size_t key_n = 0, head_n = 0;
    uint64_t slot = 0, seed = 0;
    int have_key = 0, list = 0;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 audit verify DUMP [--key RACKKEY | --seed N] [--slot S] [--head HEX] [--list]\n\n"
                 "Check a module's dumped audit log (the raw image of its log area: `ek3\n"
                 "audit dump`, or a debugger's read of flash pages 2.. of the area): every\n"
                 "page in order, records numbered without a gap, every CRC, and with the\n"
                 "module's key every record's AES-CMAC tag, which chains each record to the\n"
                 "one before. --key is the rack key (32 hex digits) and --slot the module:\n"
                 "its key is derived from them as the station's is; --seed N takes the rig's\n"
                 "development rack key of seed N instead. Without either only the CRCs and\n"
                 "the numbering are checked (anyone can forge those). --head is the head\n"
                 "the station heard (`ek3 api ... diag SLOT audit`, 8 hex digits or more):\n"
                 "a log that ends before it was truncated. --list prints every record (a\n"
                 "batch of kernel events, EVENTS, one line per event after it).\n"
                 "The first bad record is named: its number, its offset, and what is wrong.\n"
                 "Exit code 0 when the log is sound, 1 when it is not, 2 for bad input.");
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--key") && cli_has_value(a, v, &miss)) {
            if (cli_parse_hex(v, rack_key, sizeof rack_key, &key_n) || key_n != sizeof rack_key)
                return cli_usage_error(w, "--key '%s': the rack key is 32 hex digits", v);
            have_key = 1, i++;
        } else if (!strcmp(a, "--seed") && cli_has_value(a, v, &miss)) {
            if (cli_parse_seed(v, &seed))
                return cli_usage_error(w, "--seed '%s': " CLI_SEED_RANGE, v);
            i++;
        } else if (!strcmp(a, "--slot") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, CID_NODE_MODULE_MAX, &slot) || slot < CID_NODE_MODULE_MIN)
                return cli_usage_error(w, "--slot '%s': a module, %u..%u", v, CID_NODE_MODULE_MIN, CID_NODE_MODULE_MAX);
            i++;
        } else if (!strcmp(a, "--head") && cli_has_value(a, v, &miss)) {
            if (cli_parse_hex(v, head, sizeof head, &head_n) || head_n < 4)
                return cli_usage_error(w, "--head '%s': at least 8 hex digits (4 bytes), at most 32", v);
            i++;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (a[0] != '-' && !path) {
            path = a;
        } else {
            return cli_bad_arg(w, a, miss);
        }
    }
    if (!path)
        return cli_usage_error(w, "which dump? ek3 audit verify DUMP (ek3 audit verify --help)");
    if (cli_given(&seen, "--head") && !cli_given(&seen, "--key") && !cli_given(&seen, "--seed"))
        return cli_usage_error(w, "--head needs the module's key: --key RACKKEY (or --seed N) and --slot S: the head "
                                  "is a chain value under that key");
    if (cli_exclusive(w, &seen, "--key", "--seed", "both give the rack key") ||
        cli_needs(w, &seen, "--key", "--slot", "the module's key is derived from the rack key and its slot") ||
        cli_needs(w, &seen, "--seed", "--slot", "the module's key is derived from the rack key and its slot") ||
        cli_needs(w, &seen, "--head", "--slot", "the head is a chain value: it needs the module's key"))
        return CLI_USAGE;
    if (cli_given(&seen, "--slot") && !cli_given(&seen, "--key") && !cli_given(&seen, "--seed"))
        return cli_usage_error(w, "--slot without --key or --seed: the slot only picks the module's key out of the "
                                  "rack key (without either, the tags are not checked)");
    FILE *f = cli_open_in(path);
    if (!f)
        return cli_usage_error(w, "%s: %s", path, strerror(errno));
    uint8_t *img = malloc(AUD_MAX_DUMP + 1);
    if (!img) {
        fclose(f);
        return cli_fail(w, "out of memory");
    }
    size_t n = fread(img, 1, AUD_MAX_DUMP + 1, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || n > AUD_MAX_DUMP || !n || n % ALOG_PAGE) {
        free(img);
        if (rerr)
            return cli_usage_error(w, "%s: a read error", path);
        return cli_usage_error(w, "%s: %zu bytes: a dump is whole %u-byte pages, at most %u bytes", path, n, ALOG_PAGE,
                               AUD_MAX_DUMP);
    }
    auth_crypto c = hostcrypto_auth();
    uint8_t node_key[16];
    int keyed = cli_given(&seen, "--key") || cli_given(&seen, "--seed");
    if (keyed) {
        if (!have_key)
            fwi_rack_key(seed, rack_key);
        if (auth_derive_key(&c, rack_key, (uint16_t)slot, node_key)) {
            free(img);
            return cli_fail(w, "the crypto backend failed");
        }
    }
    alog_verdict v;
    aud_walk aw = {list ? stdout : NULL, head_n ? head : NULL, head_n, 0, 0, 0};
    int rc = alog_verify(&c, keyed ? node_key : NULL, img, n, &v, aud_each, &aw);
    free(img);
    if (rc)
        return cli_fail(w, "%s: %s", path, ek3_strerror(rc));
    if (v.bad) {
        if (v.bad_page)
            printf("%s: BAD: page %u (offset 0x%x) %s\n", path, v.bad_page_no, v.bad_off, v.why);
        else
            printf("%s: BAD: record %u (offset 0x%x, page %u) %s\n", path, v.bad_seq, v.bad_off, v.bad_page_no,
                   v.why);
        if (v.records)
            printf("%s: records %u..%u before it were sound\n", path, v.first_seq, v.next_seq - 1);
        else if (keyed && !v.bad_page && v.bad_tag)
            printf("%s: no sound record before it (a wrong --key, --seed or --slot fails the first tag)\n", path);
        return CLI_FAIL;
    }
    if (!v.pages && (v.garbage_pages > 1 || (v.garbage_pages && v.garbage_pages == n / ALOG_PAGE))) {
        /* one page torn by a cut at the log's first write is a log's; more, or every page, is not */
        printf("%s: BAD: not an audit log: %u of %zu page(s) neither blank (erased) nor a log's page: another "
               "dump, or the log overwritten\n",
               path, v.garbage_pages, n / ALOG_PAGE);
        return CLI_FAIL;
    }
    if (!v.pages) {
        printf("%s: an empty log (%u page(s) neither blank nor valid)\n", path, v.garbage_pages);
        if (head_n) { /* the station heard a head: the log had records */
            printf("%s: BAD: the station holds a head (", path);
            aud_hex(stdout, head, head_n);
            printf(") but the log has no record: erased or replaced\n");
            return CLI_FAIL;
        }
        return CLI_OK;
    }
    /* the chain's own verdict; "sound" only when the station's head (if given) is in it, else BAD below */
    printf("%s: %s: records %u..%u (%u, %u carried forward), %u page(s), %u torn record(s) skipped, boots %u..%u%s\n",
           path, head_n && !aw.found ? "chain intact" : "sound", v.first_seq, v.next_seq - 1, v.records, v.carried,
           v.pages, v.torn, v.first_boot, v.last_boot,
           keyed ? ", every tag checked" : ", tags NOT checked (no key: the CRCs and numbering anyone can forge)");
    if (keyed) {
        printf("%s: head ", path);
        aud_hex(stdout, v.head, 8);
        putchar('\n');
    }
    if (!head_n) /* what the chain cannot tell without the station's head */
        printf("%s: its end NOT checked (no --head): records removed from its end leave a chain as sound\n", path);
    if (head_n && !aw.found) {
        printf("%s: BAD: no record of the log ends at the head the station holds (", path);
        aud_hex(stdout, head, head_n);
        printf("): records removed from its end, or another module's log\n");
        return CLI_FAIL;
    }
    if (head_n && aw.found_seq != aw.last_seq)
        printf("%s: the station's head is record %u's (%u record(s) written since it was read)\n", path, aw.found_seq,
               aw.last_seq - aw.found_seq);
    else if (head_n) /* said, not left to the absence of a BAD line; a shorter head matches on fewer bits */
    {
        char on[96] = "";
        if (head_n < 8)
            snprintf(on, sizeof on, " on the %zu bytes given (a %zu-bit match; a dump's 8 bytes match on 64)", head_n,
                     8 * head_n);
        printf("%s: its end checked: the station's head is the last record's (%u)%s\n", path, aw.last_seq, on);
    }
    return CLI_OK;
}

static int aud_dump(int argc, char **argv)
{
    const char *w = "audit dump", *out = NULL, *miss = NULL;
    uint64_t modules = 4, slot = 1, seed = 1, crashes = 3;
    double duration = 2.0;
    cli_seen seen;
    memset(&seen, 0, sizeof seen);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            puts("usage: ek3 audit dump OUT [--modules 4] [--slot 1] [--seed 1] [--duration 2s] [--crashes 3]\n\n"
                 "Run a rack (no load) for --duration, crash module --slot's THERMAL_MGR\n"
                 "--crashes times on the way (each crash, restart and injection is an\n"
                 "audit event), and write that module's audit log area, raw, to OUT: the\n"
                 "dump `ek3 audit verify OUT --seed N --slot S` checks. Also prints the\n"
                 "head the module's DIAGNOSTICS reports (diag SLOT audit).");
            return CLI_OK;
        }
        if (a[0] == '-' && a[1] && cli_once(w, &seen, a, NULL))
            return CLI_USAGE;
        if (!strcmp(a, "--modules") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, 510, &modules) || !modules)
                return cli_usage_error(w, "--modules '%s': 1..510", v);
            i++;
        } else if (!strcmp(a, "--slot") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, 510, &slot) || !slot) /* as audit verify's: a slot of a rack up to 510 */
                return cli_usage_error(w, "--slot '%s': a module, 1..510", v);
            i++;
        } else if (!strcmp(a, "--seed") && cli_has_value(a, v, &miss)) {
            if (cli_parse_seed(v, &seed))
                return cli_usage_error(w, "--seed '%s': " CLI_SEED_RANGE, v);
            i++;
        } else if (!strcmp(a, "--crashes") && cli_has_value(a, v, &miss)) {
            if (cli_parse_u64(v, 1000, &crashes))
                return cli_usage_error(w, "--crashes '%s': 0..1000", v);
            i++;
        } else if (!strcmp(a, "--duration") && cli_has_value(a, v, &miss)) {
            if (cli_parse_quantity(v, "s", &duration) || duration <= 0 || duration > 3600)
                return cli_time_error(w, "--duration", v, "above 0 and up to an hour", 3600);
            i++;
        } else if (a[0] != '-' && !out) {
            out = a;
        } else {
            return cli_bad_arg(w, a, miss);
        }
    }
    if (!out)
        return cli_usage_error(w, "where to? ek3 audit dump OUT (ek3 audit dump --help)");
    if (slot > modules)
        return cli_usage_error(w, "--slot %u: the rack has %u module(s)", (unsigned)slot, (unsigned)modules);
    rig_opts o;
    rig_default_opts(&o, (unsigned)modules, seed, 0.0);
    rig *r = calloc(1, sizeof *r);
    if (!r)
        return cli_fail(w, "out of memory");
    int rc = rig_init(r, &o);
    if (rc) {
        free(r);
        return cli_fail(w, "the rack did not start: %s", ek3_strerror(rc));
    }
    uint64_t quanta = (uint64_t)(duration * 1e9 / RIG_PERIOD_NS);
    fwi *m = &r->m[slot - 1].fw;
    unsigned thermal = fwi_service_id("THERMAL_MGR");
    uint64_t done = 0;
    for (uint64_t q = 1; q <= quanta; q++) {
        if (done < crashes && q >= quanta * (done + 1) / (crashes + 1)) { /* evenly over the run */
            inj_fault(&m->k, INJ_CRASH, thermal, 0);
            done++;
        }
        rig_quantum(r);
    }
    /* A tick or two for the logger to drain what is left. */
    for (unsigned q = 0; q < 2 * ALOG_PERIOD_US * 1000u / RIG_PERIOD_NS; q++)
        rig_quantum(r);
    static uint8_t img[ALOG_AREA];
    size_t n = 0;
    rc = alog_dump(hhal_hal(&m->h), img, sizeof img, &n);
    uint8_t head[8], node_key[16];
    uint32_t next = 0;
    canh_config cfg;
    if (!rc && canh_config_read(hhal_hal(&m->h), &cfg) == EK3_OK)
        memcpy(node_key, cfg.key, 16);
    else
        memset(node_key, 0, 16);
    int hrc = alog_head_read(hhal_hal(&m->h), node_key, head, &next);
    rig_free(r);
    free(r);
    if (rc)
        return cli_fail(w, "the log area: %s", ek3_strerror(rc));
    FILE *f = fopen(out, "wb");
    if (!f)
        return cli_fail(w, "%s: %s", out, strerror(errno));
    if (fwrite(img, 1, n, f) != n) {
        int e = errno;
        fclose(f);
        return cli_fail(w, "%s: write error: %s", out, strerror(e));
    }
    if (cli_close_out(w, f, out))
        return CLI_FAIL;
    unsigned nrec = hrc == EK3_OK ? next : 0;
    printf("%s: module %u's audit log area, %zu bytes; %u record%s; head ", out, (unsigned)slot, n, nrec,
           nrec == 1 ? "" : "s");
    aud_hex(stdout, head, sizeof head);
    printf("\nverify: ek3 audit verify %s --seed %llu --slot %u --head ", out, (unsigned long long)seed, (unsigned)slot);
    aud_hex(stdout, head, sizeof head);
    putchar('\n');
    return CLI_OK;
}

int cmd_audit(int argc, char **argv)
{
    static const cli_cmd cmds[] = {
        {"dump", aud_dump, "run a rack and write one module's audit log area, raw (the dump)"},
        {"verify", aud_verify, "check a dump: order, CRCs, the AES-CMAC chain; name the first bad record"},
    };
    return cli_dispatch("audit", "A module's tamper-evident audit log (docs/flash.md).", cmds, sizeof cmds / sizeof cmds[0],
                        argc, argv);
}
