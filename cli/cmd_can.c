/* cmd_can.c - `ek3 can`: identifiers, payloads, candump logs, the bus
 * plan and AES-CMAC, for engineers checking frames by hand. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "busplan.h"
#include "can_id.h"
#include "candump.h"
#include "cli.h"
#include "cmd.h"
#include "ek3_err.h"
#include "host_crypto.h"
#include "llc_control.h"
#include "msg.h"

/* ---- shared helpers --------------------------------------------------- */

static const char *can_node_name(unsigned n, char *buf, size_t cap)
{
    if (n == CID_NODE_STATION) return "station";
    if (n == CID_NODE_BROADCAST) return "broadcast";
    if (n == CID_NODE_PLANT) return "plant";
    if (n == CID_NODE_RIG) return "rig";
    if (n >= CID_NODE_MODULE_MIN && n <= CID_NODE_MODULE_MAX)
        snprintf(buf, cap, "module %u", n);
    else
        snprintf(buf, cap, "node %u", n);
    return buf;
}

/* A priority or type given by name or number. */
static int can_parse_named(const char *s, int (*lookup)(const char *, unsigned *), unsigned max,
                           unsigned *out)
{
    uint64_t v;
    if (lookup(s, out) == EK3_OK)
        return EK3_OK;
    if (cli_parse_u64(s, max, &v) == EK3_OK) {
        *out = (unsigned)v;
        return EK3_OK;
    }
    return EK3_ENOENT;
}

static int can_parse_node(const char *s, unsigned max, unsigned *out)
{
    uint64_t v;
    if (!strcmp(s, "station")) { *out = CID_NODE_STATION; return EK3_OK; }
    if (!strcmp(s, "broadcast") || !strcmp(s, "all")) { *out = CID_NODE_BROADCAST; return EK3_OK; }
    if (!strcmp(s, "plant")) { *out = CID_NODE_PLANT; return EK3_OK; }
    int rc = cli_parse_u64(s, max, &v);
    if (rc)
        return rc;
    *out = (unsigned)v;
    return EK3_OK;
}

/* what: the flag or argument that gave it ("--key", "KEYHEX"). */
static int can_parse_key(const char *where, const char *what, const char *s, uint8_t key[AUTH_KEY_LEN])
{
    size_t n;
    if (cli_parse_hex(s, key, AUTH_KEY_LEN, &n) || n != AUTH_KEY_LEN)
        return cli_usage_error(where, "%s '%s': a key is 32 hex digits (AES-128)", what, s);
    return CLI_OK;
}

/* The options of the subcommand being parsed (cli_once: one value each). */
static cli_seen can_seen;

/* getopt_long around one subcommand; reports unknown options itself, and
 * an option given twice (by its full name, however it was written:
 * --src 5, --src=5, --sr 5). */
static int can_getopt(const char *where, int argc, char **argv, const char *shortopts,
                      const struct option *longopts, int *bad)
{
    int idx = -1;
    int c = getopt_long(argc, argv, shortopts, longopts, &idx);
    const char *miss = NULL;
    if (c == '?') {
        *bad = cli_usage_error(where, "unknown option '%s'", argv[optind - 1]);
    } else if (c == ':') {
        *bad = cli_usage_error(where, "option '%s' needs a value", argv[optind - 1]);
    } else if (idx >= 0 && longopts[idx].has_arg == required_argument &&
               !cli_has_value(longopts[idx].name, optarg, &miss)) {
        /* "--if --time 1": the next word is an option, not the value */
        *bad = cli_usage_error(where, "option '--%s' needs a value", miss);
        c = '?';
    } else if (idx >= 0) {
        char opt[40];
        snprintf(opt, sizeof opt, "--%s", longopts[idx].name);
        if (strcmp(opt, "--help") && cli_once(where, &can_seen, opt, NULL)) {
            *bad = CLI_USAGE;
            c = '?';
        }
    }
    return c;
}

static void can_reset_getopt(void)
{
    optind = 0; /* glibc: full re-initialisation for each subcommand */
    opterr = 0;
    memset(&can_seen, 0, sizeof can_seen);
}

/* ---- ek3 can id -------------------------------------------------------- */

static int can_id_help(void)
{
    puts("usage: ek3 can id ID\n"
         "       ek3 can id --prio P --type T --src N --dst N\n\n"
         "Decode a 29-bit identifier into priority, type, source and destination,\n"
         "or encode one from its fields. P and T are names (HIGH, POWER_CMD) or\n"
         "numbers; N is a number, 'station', 'plant' or 'broadcast'.\n"
         "Layout: priority[28:25] type[24:21] source[20:9] destination[8:0].");
    return CLI_OK;
}

static int can_id(int argc, char **argv)
{
    static const struct option lo[] = {
        {"prio", required_argument, 0, 'p'}, {"type", required_argument, 0, 't'},
        {"src", required_argument, 0, 's'},  {"dst", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *w = "can id";
    const char *ps = NULL, *ts = NULL, *ss = NULL, *ds = NULL;
    int c, bad = 0;
    can_reset_getopt();
    while ((c = can_getopt(w, argc, argv, ":h", lo, &bad)) != -1) {
        switch (c) {
        case 'p': ps = optarg; break;
        case 't': ts = optarg; break;
        case 's': ss = optarg; break;
        case 'd': ds = optarg; break;
        case 'h': return can_id_help();
        default: return bad;
        }
    }
    char b1[32], b2[32];
    if (ps || ts || ss || ds) {
        if (optind < argc)
            return cli_usage_error(w, "give either an identifier or --prio/--type/--src/--dst, not both");
        if (!ps || !ts || !ss || !ds)
            return cli_usage_error(w, "encoding needs all of --prio, --type, --src and --dst");
        unsigned p, t, s, d;
        if (can_parse_named(ps, cid_prio_parse, CID_PRIO_MAX, &p))
            return cli_usage_error(w, "--prio '%s' is not a priority (CRITICAL, HIGH, MEDIUM, LOW, BACKGROUND or 0-15)", ps);
        if (can_parse_named(ts, cid_type_parse, CID_TYPE_MAX, &t))
            return cli_usage_error(w, "--type '%s' is not a message type name or 0-15", ts);
        if (can_parse_node(ss, CID_SRC_MAX, &s))
            return cli_usage_error(w, "--src '%s' is not a node 0-4095", ss);
        if (can_parse_node(ds, CID_DST_MAX, &d))
            return cli_usage_error(w, "--dst '%s' is not a node 0-511 (511 = broadcast)", ds);
        cid_fields f = {(uint8_t)p, (uint8_t)t, (uint16_t)s, (uint16_t)d};
        uint32_t id;
        cid_encode(&f, &id);
        printf("0x%08" PRIX32 "\n", id);
        if (cid_validate(id))
            fprintf(stderr, "ek3 %s: note: %s\n", w, ek3_strerror(cid_validate(id)));
        return CLI_OK;
    }
    if (optind != argc - 1)
        return cli_usage_error(w, optind >= argc ? "missing identifier" : "more than one identifier");
    uint64_t v;
    int rc = cli_parse_u64(argv[optind], UINT32_MAX, &v);
    if (rc == EK3_ERANGE)
        return cli_usage_error(w, "'%s' does not fit in 29 bits", argv[optind]);
    if (rc)
        return cli_usage_error(w, "'%s' is not a number", argv[optind]);
    cid_fields f;
    if (cid_decode((uint32_t)v, &f))
        return cli_usage_error(w, "0x%" PRIX64 " does not fit in 29 bits", v);
    const char *pn = cid_prio_name(f.prio), *tn = cid_type_name(f.type);
    printf("id        0x%08" PRIX64 "\n", v);
    printf("priority  %s (%u)\n", pn ? pn : "undefined", f.prio);
    printf("type      %s (%u)\n", tn ? tn : "reserved", f.type);
    printf("source    %u (%s)\n", f.src, can_node_name(f.src, b1, sizeof b1));
    printf("dest      %u (%s)\n", f.dst, can_node_name(f.dst, b2, sizeof b2));
    printf("auth      %s\n", !auth_required((uint32_t)v)                    ? "none"
                              : f.src == CID_NODE_STATION ? "required (sent by the station)"
                                                          : "required (a swarm frame: the group key)");
    rc = cid_validate((uint32_t)v);
    if (rc)
        return cli_fail(w, "0x%08" PRIX64 ": %s", v, ek3_strerror(rc));
    return CLI_OK;
}

/* ---- ek3 can encode ---------------------------------------------------- */

static int can_encode_help(void)
{
    puts("usage: ek3 can encode TYPE --src N --dst N [field=value ...]\n"
         "                     [--prio P] [--key HEX] [--fv N] [--time EPOCH] [--if NAME]\n\n"
         "Build one frame and print it as a candump log line (append it to a log,\n"
         "or feed it to cansend). Fields are the raw integers of the layout\n"
         "('ek3 can layouts'); enum fields also take names (op=SET); arrays take\n"
         "comma lists (ch=1,2,3: up to the array's length, the rest 0); byte fields\n"
         "take hex. A field left out is sent as 0 (a note names it) where 0 is in\n"
         "its range, else refused; FW_UPDATE's rules across fields per op ('ek3 can\n"
         "layouts') are checked, and one broken is named with the op's rules.\n"
         "TYPE is the identifier's type name (ek3 can id) or the layout's title\n"
         "(FAULT or FAULT_ALERT).\n"
         "Frames from the station (src 0) are signed, and a module's swarm frames\n"
         "(SYNC, ELECTION, THERMAL) with the rack's group key: --key is the rack\n"
         "key, the node key of the destination (or the group's) is derived from it,\n"
         "--fv is the freshness counter (default 1); on a frame that carries no MAC,\n"
         "--key and --fv are refused (they would be ignored). --time stamps the line,\n"
         "in seconds since the epoch (1700000000.000100; default: now).");
    return CLI_OK;
}

/* FW_UPDATE's rules across fields for op (msg_fw_check: msg.h), as a
 * user writes the frame, into buf: said when encode refuses one, and
 * under the layout (ek3 can layouts). Returns buf. */
static const char *can_fw_rules(unsigned op, char *buf, size_t cap)
{
    const unsigned max = MSG_FW_IMAGE_MAX;
    switch (op) {
    case MSG_FW_BEGIN:
        snprintf(buf, cap,
                 "BEGIN: xfer 1..255, offset the image's size (1..%u), len %u (data: security u32, flags u8, 1 = "
                 "RESUME, 3 bytes 0)",
                 max, MSG_FW_BEGIN_LEN);
        break;
    case MSG_FW_CHUNK:
        snprintf(buf, cap,
                 "CHUNK: xfer 1..255, len 8..%u and offset multiples of 8, offset + len <= %u, arg the CRC-32 of "
                 "data (a bad one the receiver counts)",
                 MSG_FW_CHUNK_MAX, max);
        break;
    case MSG_FW_END:
        snprintf(buf, cap, "END: xfer 1..255, offset the image's size (1..%u), len 0", max);
        break;
    case MSG_FW_STATUS:
        snprintf(buf, cap, "STATUS: any xfer, len %u (the receiver's state)", (unsigned)MSG_FW_STATUS_LEN);
        break;
    default:
        snprintf(buf, cap, "ABORT, ACTIVATE, QUERY, REBOOT: xfer 1..255, len, offset and arg 0");
        break;
    }
    return buf;
}

/* Whether field `name` is among the name=value arguments. */
static int can_given(const char *const *args, unsigned n, const char *name)
{
    for (unsigned j = 0; j < n; j++)
        if (strcspn(args[j], "=") == strlen(name) && !strncmp(args[j], name, strlen(name)))
            return 1;
    return 0;
}

static const msg_field *can_find_field(const msg_desc *d, const char *name, size_t n)
{
    for (unsigned i = 0; i < d->nfields; i++)
        if (d->fields[i].soff != MSG_NOSTRUCT && strlen(d->fields[i].name) == n &&
            !strncmp(d->fields[i].name, name, n))
            return &d->fields[i];
    return NULL;
}

static int can_set_field(const char *w, const msg_desc *d, const char *arg, msg_any *m)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return cli_usage_error(w, "'%s' is not field=value", arg);
    const msg_field *f = can_find_field(d, arg, (size_t)(eq - arg));
    if (!f)
        return cli_usage_error(w, "%s has no field '%.*s' (see 'ek3 can layouts')", d->name, (int)(eq - arg), arg);
    const char *val = eq + 1;
    if (!*val)
        return cli_usage_error(w, "%s= needs a value", f->name);
    if (f->kind == MSG_K_BYTES) {
        size_t n;
        if (cli_parse_hex(val, (uint8_t *)m + f->soff, f->count, &n))
            return cli_usage_error(w, "%s: '%s' is not at most %u hex bytes", f->name, val, f->count);
        return CLI_OK;
    }
    /* A comma list: every item a value (none empty, none dropped). */
    unsigned j = 0;
    for (const char *item = val;; j++) {
        size_t l = strcspn(item, ",");
        char tok[32];
        int64_t v;
        if (l == 0 || l >= sizeof tok)
            return cli_usage_error(w, "%s: '%.*s' is not a value%s", f->name, (int)l, item,
                                   l ? " (too long)" : "");
        memcpy(tok, item, l);
        tok[l] = '\0';
        if (j >= f->count)
            return cli_usage_error(w, "%s takes %u value%s", f->name, f->count, f->count > 1 ? "s" : "");
        int found = 0;
        for (int64_t e = f->min; f->names && e <= f->max; e++)
            if (!strcmp(tok, f->names[e])) { v = e; found = 1; }
        if (!found) {
            uint64_t u;
            if (tok[0] == '-' ? cli_parse_i64(tok, INT64_MIN, INT64_MAX, &v) != 0
                              : cli_parse_u64(tok, UINT64_MAX, &u) != 0)
                return cli_usage_error(w, "%s: '%s' is not a number%s", f->name, tok, f->names ? " or a name" : "");
            if (tok[0] != '-')
                v = (int64_t)u;
        }
        if (v < f->min || v > f->max)
            return cli_usage_error(w, "%s=%" PRId64 " is out of range %" PRId64 "..%" PRId64, f->name, v, f->min, f->max);
        msg_field_set(f, m, j, v);
        if (!item[l])
            break;
        item += l + 1;
    }
    return CLI_OK;
}

static int can_encode(int argc, char **argv)
{
    static const struct option lo[] = {
        {"prio", required_argument, 0, 'p'}, {"src", required_argument, 0, 's'},
        {"dst", required_argument, 0, 'd'},  {"key", required_argument, 0, 'k'},
        {"fv", required_argument, 0, 'f'},   {"time", required_argument, 0, 'T'},
        {"if", required_argument, 0, 'i'},   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *w = "can encode";
    const char *ps = NULL, *ss = NULL, *ds = NULL, *ks = NULL, *ts = NULL, *ifn = "can0", *tname = NULL, *fvs = NULL;
    const char *fieldargs[64];
    unsigned nfield = 0;
    uint64_t fv = 1;
    int c, bad = 0;
    can_reset_getopt();
    /* "-" : options and words in order; words come back as 1 */
    while ((c = can_getopt(w, argc, argv, "-:h", lo, &bad)) != -1) {
        switch (c) {
        case 1:
            if (!tname)
                tname = optarg;
            else if (nfield < sizeof fieldargs / sizeof fieldargs[0])
                fieldargs[nfield++] = optarg;
            else
                return cli_usage_error(w, "too many field=value words");
            break;
        case 'p': ps = optarg; break;
        case 's': ss = optarg; break;
        case 'd': ds = optarg; break;
        case 'k': ks = optarg; break;
        case 'T': ts = optarg; break;
        case 'i': ifn = optarg; break;
        case 'f':
            fvs = optarg;
            if (cli_parse_u64(optarg, UINT32_MAX, &fv) || fv == 0)
                return cli_usage_error(w, "--fv '%s' is not a counter 1..4294967295", optarg);
            break;
        case 'h': return can_encode_help();
        default: return bad;
        }
    }
    if (!tname)
        return cli_usage_error(w, "missing message TYPE");
    unsigned type, src, dst;
    if (can_parse_named(tname, cid_type_parse, CID_TYPE_MAX, &type) || !msg_desc_of(type)) {
        /* the layout's title (FAULT_ALERT) names it too */
        for (type = 0; type <= CID_TYPE_MAX && !(msg_desc_of(type) && !strcmp(msg_desc_of(type)->name, tname));)
            type++;
        if (type > CID_TYPE_MAX)
            return cli_usage_error(w, "'%s' is not a message type with a layout ('ek3 can layouts' lists them)", tname);
    }
    const msg_desc *d = msg_desc_of(type);
    msg_any m;
    memset(&m, 0, sizeof m);
    for (unsigned i = 0; i < nfield; i++) {
        size_t l = strcspn(fieldargs[i], "=");
        for (unsigned j = 0; j < i; j++) /* a field takes one value (a list for an array) */
            if (strcspn(fieldargs[j], "=") == l && !strncmp(fieldargs[j], fieldargs[i], l) && fieldargs[i][l])
                return cli_usage_error(w, "field %.*s is given twice ('%s' and '%s'): it takes one value", (int)l,
                                       fieldargs[i], fieldargs[j], fieldargs[i]);
        int rc = can_set_field(w, d, fieldargs[i], &m);
        if (rc)
            return rc;
    }
    if (!ss || !ds)
        return cli_usage_error(w, "--src and --dst are required");
    if (can_parse_node(ss, CID_SRC_MAX, &src))
        return cli_usage_error(w, "--src '%s' is not a node 0-4095", ss);
    if (can_parse_node(ds, CID_DST_MAX, &dst))
        return cli_usage_error(w, "--dst '%s' is not a node 0-511", ds);
    unsigned prio = d->prio;
    if (ps && can_parse_named(ps, cid_prio_parse, CID_PRIO_MAX, &prio))
        return cli_usage_error(w, "--prio '%s' is not a priority", ps);
    if (strlen(ifn) >= CDL_IFNAME_MAX || !*ifn || strpbrk(ifn, " \t"))
        return cli_usage_error(w, "--if '%s' is not an interface name", ifn);

    cdl_record r;
    memset(&r, 0, sizeof r);
    if (ts) {
        int64_t t_ns;
        uint8_t frac;
        if (cdl_parse_stamp(ts, &t_ns, &frac))
            return cli_usage_error(w, "--time '%s' is not seconds[.fraction] since the epoch (up to 9 digits)", ts);
        if (t_ns == 0) /* docs/can-protocol.md, the log format */
            fprintf(stderr,
                    "ek3 %s: note: --time 0: log2asc reads a log that starts at 0 s as having no start time "
                    "(every frame at 0.000000)\n",
                    w);
        cdl_set_time(&r, t_ns, frac);
    } else {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        cdl_set_time(&r, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, 6);
    }
    snprintf(r.ifname, sizeof r.ifname, "%s", ifn);
    cid_fields idf = {(uint8_t)prio, (uint8_t)type, (uint16_t)src, (uint16_t)dst};
    cid_encode(&idf, &r.frame.id);
    r.frame.flags = CFD_FLAG_EFF | CFD_FLAG_FD | CFD_FLAG_BRS;
    r.fd_extra = CDL_FD_FDF; /* "##5", as Linux >= 6.0 and candump write it */
    msg_err e;
    int n = msg_encode(type, &m, r.frame.data, sizeof r.frame.data, &e);
    for (unsigned i = 0; n == EK3_ERANGE && e.field && i < d->nfields; i++) { /* say the field's range */
        const msg_field *fd = &d->fields[i];
        if (strcmp(fd->name, e.field) || can_given(fieldargs, nfield, fd->name) || (fd->min <= 0 && fd->max >= 0))
            continue;
        return cli_usage_error(
            w, "%s: %s is not given, and 0 is out of its range %" PRId64 "..%" PRId64 " (give %s=VALUE)", d->name,
            fd->name, fd->min, fd->max, fd->name);
    }
    if (n == EK3_ERANGE && e.field && type == CID_TYPE_FW_UPDATE) /* a rule across fields (msg_fw_check) */
    {
        char rules[200];
        return cli_usage_error(w, "%s: %s %s%" PRId64 " breaks a rule of its op, %s", d->name, e.field,
                               can_given(fieldargs, nfield, e.field) ? "= " : "(not given) = ", e.value,
                               can_fw_rules(m.fw_update.op, rules, sizeof rules));
    }
    if (n < 0)
        return cli_usage_error(w, "%s: %s%s%s", d->name, ek3_strerror(n), e.field ? " in " : "", e.field ? e.field : "");
    r.frame.len = (uint8_t)n;
    /* The fields left out go as 0 where 0 is in range: said, so a forgotten one is not a silent 0 A. */
    char unset[256] = "";
    size_t nu = 0;
    unsigned n_unset = 0;
    for (unsigned i = 0; i < d->nfields && nu < sizeof unset; i++) {
        const msg_field *fd = &d->fields[i];
        int given = fd->soff == MSG_NOSTRUCT || can_given(fieldargs, nfield, fd->name); /* version, reserved */
        if (!given) {
            nu += (size_t)snprintf(unset + nu, sizeof unset - nu, "%s%s", n_unset ? ", " : "", fd->name);
            n_unset++;
        }
    }
    if (n_unset)
        fprintf(stderr, "ek3 %s: note: %s: %s not given: sent as 0\n", w, d->name, unset);
    if (!auth_required(r.frame.id) && (ks || fvs)) {
        char nb[32];
        return cli_usage_error(w, "%s: a %s from %s carries no MAC ('ek3 can layouts' says which frames are "
                                  "signed): the %s would be ignored",
                               ks ? "--key" : "--fv", d->name, can_node_name(src, nb, sizeof nb),
                               ks ? "key" : "freshness counter");
    }
    if (auth_required(r.frame.id)) {
        uint8_t rack[AUTH_KEY_LEN], key[AUTH_KEY_LEN];
        if (!ks) {
            char nb[32];
            return cli_usage_error(
                w, "a %s from %s is authenticated (%s): give --key RACKKEY", d->name, can_node_name(src, nb, sizeof nb),
                d->auth == MSG_AUTH_GROUP ? "a swarm frame, with the rack's group key derived from it"
                                          : "the station signs it with the destination's node key, "
                                            "derived from it");
        }
        if (can_parse_key(w, "--key", ks, rack))
            return CLI_USAGE;
        auth_crypto cr = hostcrypto_auth();
        if (auth_derive_key(&cr, rack, auth_key_node(r.frame.id), key) ||
            auth_sign_with(&cr, key, (uint32_t)fv, &r.frame))
            return cli_fail(w, "signing failed");
    }
    char line[CDL_LINE_MAX];
    if (cdl_format(&r, line, sizeof line) < 0)
        return cli_fail(w, "cannot format the frame");
    puts(line);
    return CLI_OK;
}

/* ---- ek3 can decode ---------------------------------------------------- */

/* Replay windows of the streams seen in one log, by (source, dest). */
#define CAN_STREAMS 4096u
typedef struct {
    uint32_t key; /* src << 9 | dst, plus 1 so that 0 is empty */
    auth_rx rx;
} can_stream;

static auth_rx *can_stream_rx(can_stream *t, uint32_t src, uint32_t dst)
{
    uint32_t key = (src << 9 | dst) + 1;
    for (uint32_t i = 0, h = (key * 2654435761u) % CAN_STREAMS; i < CAN_STREAMS; i++, h = (h + 1) % CAN_STREAMS) {
        if (t[h].key == key)
            return &t[h].rx;
        if (t[h].key == 0) {
            t[h].key = key;
            return &t[h].rx;
        }
    }
    return NULL;
}

static int can_decode_help(void)
{
    puts("usage: ek3 can decode [FILE|-] [--key RACKKEY]\n\n"
         "Read a candump log ('candump -l' format, as can-utils writes it: CAN FD\n"
         "with any flag nibble, classical, remote and error frames, raw DLCs, 6- or\n"
         "9-digit times, DROPCOUNT notes; the reader of 'ek3 replay' too)\n"
         "and print one decoded line per frame: time, interface, identifier,\n"
         "priority and type names, source->destination, payload fields.\n"
         "With --key (the rack key, 32 hex digits) every authenticated frame is\n"
         "checked with its node key: 'auth ok', 'auth BAD' (forged or corrupt),\n"
         "'replay' (counter already seen) or 'stale' (counter below the window).\n"
         "A command that only the station gives (POWER_CMD, STATION, FW_UPDATE, a\n"
         "DIAG request) from any other node is marked REFUSED, as a module's\n"
         "CAN_HANDLER refuses it (the same rule, auth_rule), with or without --key.\n"
         "Bad lines are reported as FILE:LINE:COLUMN and skipped; the exit code\n"
         "is 1 if any line or frame was bad.");
    return CLI_OK;
}

/* Decode one parsed frame into text. Returns 1 if the frame is bad, and
 * what is wrong with it, in a few words, in *why. */
static int can_decode_frame(const cdl_record *r, const uint8_t *rack, can_stream *streams,
                            char *out, size_t cap, const char **why)
{
    *why = NULL;
    const cfd_frame *f = &r->frame;
    size_t n = 0;
    int bad = 0;
#define PUT(...) n += (size_t)snprintf(out + (n < cap ? n : cap), n < cap ? cap - n : 0, __VA_ARGS__)
    char ts[48];
    cdl_format_time(r, ts, sizeof ts);
    PUT("%s %s ", ts, r->ifname);
    if (f->flags & CFD_FLAG_ERR) {
        /* the classes of linux/can/error.h, named as can-utils lib.c names them */
        static const char *const cls[] = {"tx-timeout", "lost-arbitration", "controller-problem",
                                          "protocol-violation", "transceiver-status", "no-acknowledgement-on-tx",
                                          "bus-off", "bus-error", "restarted-after-bus-off", "error-counter-tx-rx"};
        PUT("%08" PRIX32 " error frame:", f->id | 0x20000000u);
        for (unsigned i = 0; i < sizeof cls / sizeof cls[0]; i++)
            if (f->id & 1u << i)
                PUT(" %s", cls[i]);
        if (f->id >> (sizeof cls / sizeof cls[0]))
            PUT(" class 0x%" PRIX32, f->id >> (sizeof cls / sizeof cls[0]) << (sizeof cls / sizeof cls[0]));
        PUT(" [%u]", f->len);
        for (unsigned i = 0; i < f->len; i++)
            PUT(" %02X", f->data[i]);
        return 0;
    }
    if (!(f->flags & CFD_FLAG_EFF)) {
        PUT("%03" PRIX32 " not an EK3 frame (11-bit identifier%s) [%u]", f->id,
            (f->flags & CFD_FLAG_RTR) ? ", remote request" : "", f->len);
        for (unsigned i = 0; i < f->len && !(f->flags & CFD_FLAG_RTR); i++) /* its bytes, as candump shows them */
            PUT(" %02X", f->data[i]);
        return 0;
    }
    cid_fields id;
    cid_decode(f->id, &id);
    const char *pn = cid_prio_name(id.prio), *tn = cid_type_name(id.type);
    char pb[8], tb[8];
    snprintf(pb, sizeof pb, "P%u", id.prio);
    snprintf(tb, sizeof tb, "T%u", id.type);
    char db[8] = "all"; /* 0x1FF: every node (can_id.h) */
    if (id.dst != CID_NODE_BROADCAST)
        snprintf(db, sizeof db, "%u", id.dst);
    PUT("%08" PRIX32 " %s %s %u->%s [%u]", f->id, pn ? pn : pb, tn ? tn : tb, id.src, db, f->len);
    if (r->raw_dlc)
        PUT(" (raw DLC %u)", r->raw_dlc);
    if (f->flags & CFD_FLAG_RTR) {
        PUT(" remote request");
        return 0;
    }
    const msg_desc *d = msg_desc_of(id.type);
    if (!pn || !d) {
        PUT(" bad identifier: %s", ek3_strerror(cid_validate(f->id)));
        *why = "its identifier is not one of the protocol's";
        return 1;
    }
    size_t plen = f->len;
    const char *auth_note = NULL;
    uint32_t fv = 0;
    int rule = auth_rule(f), authed = rule == AUTH_RULE_SIGNED;
    if (authed) {
        if (f->len < AUTH_TRAILER_LEN) {
            /* one wording on both streams (stdout said "authentication required but missing") */
            static char short_why[128];
            snprintf(short_why, sizeof short_why,
                     "too short for its MAC: an authenticated type ends in a %u-byte trailer (freshness %u, MAC %u)",
                     AUTH_TRAILER_LEN, AUTH_FV_LEN, AUTH_MAC_LEN);
            *why = short_why;
            PUT(" bad frame: %s", *why);
            return 1;
        }
        plen = f->len - AUTH_TRAILER_LEN;
        fv = (uint32_t)f->data[plen] | (uint32_t)f->data[plen + 1] << 8 |
             (uint32_t)f->data[plen + 2] << 16 | (uint32_t)f->data[plen + 3] << 24;
        if (rack) {
            uint8_t key[AUTH_KEY_LEN];
            auth_crypto cr = hostcrypto_auth();
            auth_rx *rx = can_stream_rx(streams, id.src, id.dst);
            int rc = auth_derive_key(&cr, rack, auth_key_node(f->id), key);
            if (!rc)
                rc = rx ? auth_verify(&cr, key, rx, f, NULL, NULL) : EK3_ENOSPC;
            auth_note = rc == EK3_OK ? "auth ok" : rc == EK3_EFORGED ? "auth BAD" : rc == EK3_EREPLAY ? "replay"
                        : rc == EK3_ESTALE ? "stale" : rc == EK3_EWRAP ? "counter wrapped" : ek3_strerror(rc);
            bad |= rc != EK3_OK;
            if (rc == EK3_EFORGED)
                *why = "its MAC does not verify (a wrong --key, or a forged or corrupted frame)";
            else if (rc == EK3_EREPLAY || rc == EK3_ESTALE)
                *why = "its freshness counter is not newer than the last one from that node (replayed)";
            else if (rc != EK3_OK)
                *why = auth_note;
        } else {
            auth_note = "auth not checked (no --key)";
        }
    } else if (id.type == CID_TYPE_FW_UPDATE && rule == AUTH_RULE_OPEN && f->len == d->len + AUTH_TRAILER_LEN) {
        plen = d->len; /* a module's STATUS: the payload, then the tag's room zeroed (docs/update.md) */
    }
    msg_any m;
    msg_err e;
    float clamp_v = 0, clamp_p = 0;
    int clamped = 0;
    int rc = msg_decode(id.type, f->data, plen, &m, &e);
    if (rc) {
        PUT(" bad payload: %s", ek3_strerror(rc));
        if (e.field)
            PUT(" (%s=%" PRId64 ")", e.field, e.value);
        bad = 1;
        *why = *why ? *why : "its payload does not decode";
    } else {
        char fields[1024];
        msg_format(d, &m, fields, sizeof fields);
        PUT(" %s", fields);
        if (id.type == CID_TYPE_POWER_CMD && rule == AUTH_RULE_SIGNED &&
            (m.power_cmd.op == MSG_POWER_START || m.power_cmd.op == MSG_POWER_SET)) {
            llcc_cfg lim; /* the module's own limits, as its CAN_HANDLER applies them */
            llcc_default_cfg(&lim);
            clamp_v = m.power_cmd.vset_dv / 10.0f, clamp_p = m.power_cmd.power_w;
            clamped = llcc_limit_cmd(&lim, &clamp_v, &clamp_p, m.power_cmd.ilim_ma / 1000.0f);
        }
    }
    if (authed)
        PUT(" fv=%" PRIu32 " %s", fv, auth_note);
    if (clamped)
        PUT("; a module clamps it to %.0fW at %.1fV", clamp_p, clamp_v);
    if (rule == AUTH_RULE_STATION_ONLY) { /* what a module's CAN_HANDLER refuses */
        PUT(" REFUSED: only the station (node 0) sends %s%s; a module drops it from node %u", tn,
            id.type == CID_TYPE_DIAG ? " requests" : "", id.src);
        bad = 1;
        *why = *why ? *why : "only the station sends it";
    }
#undef PUT
    return bad;
}

static int can_decode(int argc, char **argv)
{
    static const struct option lo[] = {{"key", required_argument, 0, 'k'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *w = "can decode";
    uint8_t rack[AUTH_KEY_LEN];
    int have_key = 0, c, bad = 0;
    can_reset_getopt();
    while ((c = can_getopt(w, argc, argv, ":h", lo, &bad)) != -1) {
        switch (c) {
        case 'k':
            if (can_parse_key(w, "--key", optarg, rack))
                return CLI_USAGE;
            have_key = 1;
            break;
        case 'h': return can_decode_help();
        default: return bad;
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(w, "give one log file (or - for standard input)");
    const char *path = optind < argc ? argv[optind] : "-";
    FILE *in = cli_open_in(path);
    if (!in) /* an input that cannot be opened is a bad value, as every command's (exit 2) */
        return cli_usage_error(w, "%s: %s", path, strerror(errno));
    const char *label = strcmp(path, "-") ? path : "<stdin>";
    can_stream *streams = calloc(CAN_STREAMS, sizeof *streams);
    if (!streams) {
        if (in != stdin)
            fclose(in);
        return cli_fail(w, "out of memory");
    }
    cdl_reader rd;
    if (cdl_reader_init(&rd, in)) {
        free(streams);
        if (in != stdin)
            fclose(in);
        return cli_fail(w, "out of memory");
    }
    unsigned long frames = 0, errors = 0, lost = 0, bad_lines = 0;
    cdl_line ln;
    int got;
    while ((got = cdl_read(&rd, &ln)) == 1) {
        if (ln.kind == CDL_BLANK || ln.kind == CDL_COMMENT)
            continue;
        if (ln.kind == CDL_DROPCOUNT) {
            fprintf(stderr, "%s:%lu: candump lost %" PRIu32 " frame%s on '%.*s' here (%" PRIu32 " in all)\n", label,
                    rd.lineno, ln.dropped, ln.dropped == 1 ? "" : "s", (int)ln.drop_if_len, ln.drop_if, ln.total);
            lost += ln.dropped;
            continue;
        }
        if (ln.kind == CDL_BAD) {
            if (++bad_lines <= CDL_BAD_SHOWN)
                fprintf(stderr, "%s:%lu:%u: bad line: %s%s%s\n", label, rd.lineno, ln.col + 1, ln.why,
                        cdl_cut_note(&rd), cdl_bad_more(bad_lines));
            errors++;
            continue;
        }
        char out[2048];
        const char *why;
        if (can_decode_frame(&ln.rec, have_key ? rack : NULL, streams, out, sizeof out, &why)) {
            errors++;
            fprintf(stderr, "%s:%lu: bad frame: %s\n", label, rd.lineno, why ? why : "see its line");
        }
        puts(out);
        frames++;
    }
    int read_err = got == EK3_EIO ? rd.err : 0;
    unsigned long lineno = rd.lineno;
    cdl_reader_free(&rd);
    free(streams);
    if (in != stdin)
        fclose(in);
    errno = 0;
    int out_err = fflush(stdout) ? errno : 0; /* its own errno: a full disk is ENOSPC, not a later EIO */
    if (out_err || ferror(stdout)) {
        errno = out_err;
        return cli_stdout_error(w);
    }
    if (got == EK3_EIO)
        return cli_fail(w, "%s: read error after line %lu: %s", label, lineno, strerror(read_err));
    if (lost)
        fprintf(stderr, "ek3 %s: candump's DROPCOUNT lines say %lu frame%s never reached the log\n", w, lost,
                lost == 1 ? "" : "s");
    if (!frames && !errors) /* an empty log printed nothing at all */
        fprintf(stderr, "ek3 %s: %s: no frame in the log (%lu line%s)\n", w, label, lineno, lineno == 1 ? "" : "s");
    if (errors) {
        fprintf(stderr, "ek3 %s: %lu frame%s decoded, %lu bad line%s or frame%s\n", w, frames,
                frames == 1 ? "" : "s", errors, errors == 1 ? "" : "s", errors == 1 ? "" : "s");
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---- ek3 can busload --------------------------------------------------- */

static int can_busload_help(void)
{
    puts("usage: ek3 can busload [--modules 84] [--arb 1M] [--data 5M]\n\n"
         "Print the rack's CAN-FD traffic plan: for each message type of the\n"
         "seed's set at its rate, the frame bits (worst-case stuffing as the\n"
         "Linux kernel's can_frame_bits counts them, intermission included),\n"
         "how many of them run at the data rate, the time on the bus, the\n"
         "frame rate and the share of bus time; then the total bus load.\n"
         "--arb is at most 1M (ISO 11898-2). Exit 0; 1 when the plan does not\n"
         "fit the bus (a load above 100 %: said DOES NOT FIT), 2 for bad input.");
    return CLI_OK;
}

static int can_busload(int argc, char **argv)
{
    static const struct option lo[] = {
        {"modules", required_argument, 0, 'm'}, {"arb", required_argument, 0, 'a'},
        {"data", required_argument, 0, 'd'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *w = "can busload";
    uint64_t modules = 84;
    uint32_t arb = 1000000, data = 5000000;
    int c, bad = 0;
    can_reset_getopt();
    while ((c = can_getopt(w, argc, argv, ":h", lo, &bad)) != -1) {
        switch (c) {
        case 'm':
            if (cli_parse_u64(optarg, CID_NODE_MODULE_MAX, &modules) || modules == 0)
                return cli_usage_error(w, "--modules '%s': a whole number, 1 to %u", optarg, CID_NODE_MODULE_MAX);
            break;
        case 'a':
            if (cli_parse_rate(optarg, &arb))
                return cli_usage_error(w, "--arb '%s' is not a bit rate (e.g. 500k, 1M)", optarg);
            if (arb > 1000000) /* ISO 11898-2's transceivers: the arbitration phase at up to 1 Mbit/s */
                return cli_usage_error(w, "--arb '%s': at most 1M (CAN FD arbitrates at up to 1 Mbit/s, ISO 11898-2)",
                                       optarg);
            break;
        case 'd':
            if (cli_parse_rate(optarg, &data))
                return cli_usage_error(w, "--data '%s' is not a bit rate (e.g. 2M, 5M)", optarg);
            break;
        case 'h': return can_busload_help();
        default: return bad;
        }
    }
    if (optind < argc)
        return cli_usage_error(w, "unexpected argument '%s'", argv[optind]);
    if (data < arb)
        return cli_usage_error(w, "--data (%" PRIu32 ") must not be below --arb (%" PRIu32 ")", data, arb);
    bplan p;
    bplan_compute(&p, (unsigned)modules, arb, data);
    printf("EK3 rack CAN-FD bus plan: %u modules, %.3g Mbit/s arbitration, %.3g Mbit/s data,\n"
           "29-bit identifiers, bit-rate switch, worst-case bit stuffing.\n\n",
           p.modules, arb / 1e6, data / 1e6);
    printf("%-12s %-10s %-18s %5s %4s %5s %5s %8s %9s %7s  %s\n", "message", "priority", "sender -> receiver",
           "bytes", "dlc", "bits", "@data", "us/frame", "frames/s", "load%", "rate basis");
    static const char *const sent[] = {[BPLAN_SENT] = "", [BPLAN_EVENT] = "; today on events only",
                                       [BPLAN_NOT_YET] = "; not sent by this firmware yet"};
    unsigned not_yet = 0;
    for (unsigned i = 0; i < p.nrows; i++) {
        const bplan_row *r = &p.rows[i];
        printf("%-12s %-10s %-18s %5u %4d %5u %5u %8.2f %9.1f %7.3f  %s%s\n", r->name, cid_prio_name(r->prio),
               r->who, r->frame_len, cfd_len_to_dlc(r->frame_len, 1), r->bits, r->data_bits, r->ns / 1e3,
               r->rate_hz, 100.0 * r->load, r->basis, sent[r->sent]);
        not_yet += r->sent == BPLAN_NOT_YET;
    }
    printf("\ntotal: %.1f frames/s, bus load %.2f %%\n", p.fps, 100.0 * p.load);
    printf("longest frame %.2f us: the most a CRITICAL frame waits for the bus once it is free\n", p.worst_ns / 1e3);
    if (not_yet)
        printf("%u planned messages are not sent by this firmware yet: a rack run's measured load is below the plan\n",
               not_yet);
    if (p.load > 1.0) {
        printf("DOES NOT FIT: the plan needs %.1f %% of the bus at these rates: frames would queue without bound\n",
               100.0 * p.load);
        return CLI_FAIL;
    }
    if (p.load > 0.5)
        printf("WARNING: planned load above 50 %%: arbitration latency of low priorities grows without bound near 100 %%\n");
    return CLI_OK;
}

/* ---- ek3 can cmac ------------------------------------------------------ */

static int can_cmac(int argc, char **argv)
{
    const char *w = "can cmac";
    if (argc >= 2 && cli_is_help(argv[1])) {
        puts("usage: ek3 can cmac KEYHEX MSGHEX\n\n"
             "Print the AES-128-CMAC (RFC 4493) of a message: 32 hex digits of key,\n"
             "any number of message bytes in hex ('' for the empty message). The\n"
             "first 16 hex digits of the result are the tag an EK3 frame carries.");
        return CLI_OK;
    }
    if (argc != 3)
        return cli_usage_error(w, "needs KEYHEX and MSGHEX");
    uint8_t key[AUTH_KEY_LEN], msg[4096], tag[16];
    size_t n;
    if (can_parse_key(w, "KEYHEX", argv[1], key))
        return CLI_USAGE;
    int rc = cli_parse_hex(argv[2], msg, sizeof msg, &n);
    if (rc)
        return cli_usage_error(w, "message '%s' is not hex bytes%s", argv[2], rc == EK3_ENOSPC ? " (at most 4096)" : "");
    if (hostcrypto_cmac(NULL, key, msg, n, tag))
        return cli_fail(w, "AES-CMAC failed");
    for (int i = 0; i < 16; i++)
        printf("%02x", tag[i]);
    putchar('\n');
    return CLI_OK;
}

/* ---- ek3 can layouts --------------------------------------------------- */

static int can_layouts(int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        puts("usage: ek3 can layouts\n\nPrint every payload layout as Markdown (docs/can-protocol.md).");
        return CLI_OK;
    }
    if (argc > 1)
        return cli_usage_error("can layouts", "unexpected argument '%s'", argv[1]);
    for (unsigned t = 0; t < 16; t++) {
        const msg_desc *d = msg_desc_of(t);
        if (!d)
            continue;
        char buf[4096];
        msg_format_layout(d, buf, sizeof buf);
        printf("### %s (type 0x%X, %s, %u bytes%s)\n\n%s\n", d->name, t, cid_prio_name(d->prio), d->len,
               d->auth == MSG_AUTH_ALWAYS    ? " + 12 auth"
               : d->auth == MSG_AUTH_STATION ? " + 12 auth when the station sends it"
               : d->auth == MSG_AUTH_GROUP   ? " + 12 auth (the rack's group key)"
                                             : "",
               buf);
        if (t == CID_TYPE_FW_UPDATE) { /* its rules across fields, per op */
            static const unsigned ops[] = {MSG_FW_BEGIN, MSG_FW_CHUNK, MSG_FW_END, MSG_FW_STATUS, MSG_FW_ABORT};
            printf("Rules across fields, per op (a frame that breaks one is refused; data past len is 0):\n\n");
            for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
                char rules[200];
                printf("- %s\n", can_fw_rules(ops[i], rules, sizeof rules));
            }
            printf("\n");
        }
    }
    return CLI_OK;
}

/* ---- ek3 can ----------------------------------------------------------- */

static const cli_cmd can_cmds[] = {
    {"id", can_id, "decode or encode a 29-bit identifier"},
    {"encode", can_encode, "build a frame and print it as a candump log line"},
    {"decode", can_decode, "decode a candump log, checking authentication with --key"},
    {"busload", can_busload, "print the rack's CAN-FD traffic plan and bus load"},
    {"cmac", can_cmac, "print the AES-128-CMAC of a message"},
    {"layouts", can_layouts, "print every payload layout (Markdown)"},
};

int cmd_can(int argc, char **argv)
{
    return cli_dispatch("can", "The EK3 CAN-FD protocol: identifiers, payloads, logs, bus load, CMAC.", can_cmds,
                        sizeof can_cmds / sizeof can_cmds[0], argc, argv);
}
