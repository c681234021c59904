/* cli.c - argument parsing and error reporting shared by ek3 commands. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <time.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ek3_err.h"

int cli_usage_error(const char *where, const char *fmt, ...)
{
    va_list ap;
    const char *sp = where[0] ? " " : "";
    fprintf(stderr, "ek3%s%s: ", sp, where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ek3%s%s --help'.\n", sp, where);
    return CLI_USAGE;
}

/* The errno of the first failed flush of standard output before
 * cli_finish (cli_fail's): that flush drops the bytes, so cli_finish's
 * own flush succeeds and would not know why. 0: none failed. */
static int cli_out_errno;

static void cli_vsay(const char *where, const char *fmt, va_list ap)
{
    if (fflush(stdout) && !cli_out_errno) /* what the command printed comes first, through a pipe too */
        cli_out_errno = errno;            /* a write error: said by cli_finish, with this errno */
    fprintf(stderr, "ek3 %s: ", where);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vsay(where, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

int cli_refuse(const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vsay(where, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int cli_is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help");
}

int cli_dispatch(const char *parent, const char *summary, const cli_cmd *cmds, size_t n,
                 int argc, char **argv)
{
    if (argc < 2 || (cli_is_help(argv[1]) && argc < 3) || (cli_is_help(argv[1]) && strcmp(argv[1], "help"))) {
        FILE *o = argc < 2 ? stderr : stdout;
        const char *sp = parent[0] ? " " : "";
        fprintf(o, "usage: ek3%s%s <command> [options]\n\n%s\n\ncommands:\n", sp, parent, summary);
        for (size_t i = 0; i < n; i++)
            fprintf(o, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
        fprintf(o, "\n'ek3%s%s <command> --help' describes one.\n", sp, parent);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "help") && argc >= 3) {
        /* "ek3 help can" is "ek3 can --help" */
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(argv[2], cmds[i].name)) {
                char help[] = "--help";
                char *av[] = {argv[2], help, NULL};
                return cmds[i].run(2, av);
            }
        }
        return cli_usage_error(parent, "unknown command '%s'", argv[2]);
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].run(argc - 1, argv + 1);
    return cli_usage_error(parent, "unknown command '%s'", argv[1]);
}

int cli_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
    char *end;
    int base = 10;
    if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return EK3_EPARSE;
    /* Decimal, whatever the leading zeros ("042" is 42, as an engineer
     * reads it); hexadecimal only when written 0x. Never octal. */
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
        if (!isxdigit((unsigned char)*s))
            return EK3_EPARSE;
    } else if (!isdigit((unsigned char)*s)) {
        return EK3_EPARSE;
    }
    errno = 0;
    unsigned long long x = strtoull(s, &end, base);
    if (*end)
        return EK3_EPARSE;
    if (errno == ERANGE || x > max)
        return EK3_ERANGE;
    *v = x;
    return EK3_OK;
}

int cli_parse_seed(const char *s, uint64_t *seed)
{
    return cli_parse_u64(s, INT64_MAX, seed);
}

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return EK3_EPARSE;
    /* The sign, then the magnitude by the one rule of cli_parse_u64
     * (decimal, or hexadecimal when written 0x; never octal). */
    int neg = *s == '-';
    uint64_t m;
    int rc = cli_parse_u64(s + (*s == '-' || *s == '+'), UINT64_MAX, &m);
    if (rc)
        return rc;
    if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
        return EK3_ERANGE;
    int64_t x = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    if (x < min || x > max)
        return EK3_ERANGE;
    *v = x;
    return EK3_OK;
}

int cli_parse_rate(const char *s, uint32_t *bps)
{
    char *end;
    if (!s || !*s || !isdigit((unsigned char)*s))
        return EK3_EPARSE;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || errno)
        return EK3_EPARSE;
    if (*end == 'k' || *end == 'K')
        x *= 1e3, end++;
    else if (*end == 'M' || *end == 'm')
        x *= 1e6, end++;
    if (*end)
        return EK3_EPARSE;
    if (!(x >= 1.0 && x <= 100e6))
        return EK3_ERANGE;
    *bps = (uint32_t)(x + 0.5);
    return EK3_OK;
}

/* The ohm as people write it: "ohm", "Ohm", "OHM" or the symbol (U+2126
 * or U+03A9, in UTF-8) for a unit "ohm"; any other unit exactly. */
static int cli_same_unit(const char *s, const char *unit)
{
    if (strcasecmp(unit, "ohm"))
        return !strcmp(s, unit);
    return !strcasecmp(s, "ohm") || !strcmp(s, "\u2126") || !strcmp(s, "\u03a9");
}

/* The number s .. end (strtod's text, finite, x its value) times
 * 10^shift as decimal text reads it: "1234.56" with shift -3 is read as
 * "1234.56e-3", the double nearest 1.23456, the one "1.23456" gives
 * (x * 1e-3 is not: the product of two rounded doubles, rounded again).
 * A hexadecimal number, or one too long for the buffer, is multiplied. */
static double cli_decimal_shift(const char *s, const char *end, double x, int shift, double scale)
{
    char buf[128];
    size_t n = (size_t)(end - s);
    if (n + 16 > sizeof buf || memchr(s, 'x', n) || memchr(s, 'X', n))
        return x * scale;
    const char *e = memchr(s, 'e', n);
    if (!e)
        e = memchr(s, 'E', n);
    long ex = 0;
    if (e) {
        errno = 0;
        ex = strtol(e + 1, NULL, 10);
        if (errno || ex > 100000 || ex < -100000) /* x is 0 there (it is finite): 0 whatever the shift */
            return x * scale;
    }
    snprintf(buf, sizeof buf, "%.*se%ld", (int)((e ? e : end) - s), s, ex + shift);
    return strtod(buf, NULL);
}

/* What strtod reads but a quantity is not: a blank before the number
 * (strtod skips it; a hexadecimal number, "0x10ms", is read, as C reads
 * it). The phrase, or NULL. */
static const char *cli_not_decimal(const char *s)
{
    return isspace((unsigned char)*s) ? "a blank before the number" : NULL;
}

int cli_parse_quantity(const char *s, const char *unit, double *v)
{
    char *end;
    if (!s || !*s)
        return EK3_EPARSE;
    if (cli_not_decimal(s))
        return EK3_EPARSE;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || errno || !isfinite(x))
        return EK3_EPARSE;
    if (end[0] == ' ' && end[1] && end[1] != ' ') /* "800 V": SI's space between number and unit */
        end++;
    if (!strcmp(unit, "s")) { /* times: minutes and hours too; "m" alone is refused (milli or minutes?) */
        if (!strcmp(end, "min") || !strcmp(end, "h")) {
            *v = x * (*end == 'h' ? 3600.0 : 60.0);
            return EK3_OK;
        }
        if (!strcmp(end, "m"))
            return EK3_EPARSE;
        if ((*end == 'M' || *end == 'G') && !strcmp(end + 1, "s")) /* mega- and gigaseconds: meant ms? */
            return EK3_EPARSE;
    }
    static const char prefixes[] = "pnumkMG";
    static const double scale[] = {1e-12, 1e-9, 1e-6, 1e-3, 1e3, 1e6, 1e9};
    static const int shift[] = {-12, -9, -6, -3, 3, 6, 9};
    const char *p = *end ? strchr(prefixes, *end) : NULL;
    /* A prefix, unless what follows is the whole unit ("m" alone is milli):
     * "1234.56ms" is the same double as "1.23456s". */
    if (p && strcmp(end, unit) && !cli_same_unit(end, unit)) {
        const char *num_end = end > s && end[-1] == ' ' ? end - 1 : end; /* "5 ms" */
        x = cli_decimal_shift(s, num_end, x, shift[p - prefixes], scale[p - prefixes]);
        if (!isfinite(x)) /* "1e308G" */
            return EK3_EPARSE;
        end++;
    }
    if (*end && strcmp(end, unit) && !cli_same_unit(end, unit))
        return EK3_EPARSE;
    *v = x;
    return EK3_OK;
}

const char *cli_range_why(const char *s, const char *unit)
{
    char *end;
    errno = 0;
    double x = s ? strtod(s, &end) : 0;
    if (!s || end == s)
        return NULL;
    if (errno == ERANGE)
        return isinf(x) || fabs(x) >= 1 ? "too large for a double (above about 1e308)"
                                        : "too small for a double (under about 1e-308, other than 0)";
    char probe[48];
    double one;
    snprintf(probe, sizeof probe, "1%.40s", end);
    if (isfinite(x) && *end && strchr("kMG", *end) && cli_parse_quantity(s, unit, &one) != EK3_OK &&
        cli_parse_quantity(probe, unit, &one) == EK3_OK) /* a prefix that scales up ("1.2.3s" is no number) */
        return "too large for a double once its prefix scales it (above about 1e308)";
    return NULL;
}

const char *cli_time_why(const char *v, char *why, size_t cap)
{
    char num[48];
    char *end = NULL;
    double n = v ? strtod(v, &end) : 0, x = 0;
    const char *u = v ? end + (*end == ' ') : "";
    const char *bare = *u && u[1] && strchr("pnumk", tolower((unsigned char)*u)) ? u + 1 : u; /* past a prefix */
    int unread = v ? cli_parse_quantity(v, "s", &x) != EK3_OK : 1;
    const char *huge = cli_range_why(v, "s");
    const char *odd = v ? cli_not_decimal(v) : NULL;
    if (!v || end == v)
        snprintf(why, cap, ": not a time");
    else if (odd)
        snprintf(why, cap, ": %s", odd);
    else if (huge)
        snprintf(why, cap, ": %s", huge);
    else if (!isfinite(n))
        snprintf(why, cap, ": not a finite number");
    else if (!strcmp(u, "m"))
        snprintf(why, cap, ": milli or minutes? write ms or min");
    else if ((*u == 'M' || *u == 'G') && !strcmp(u + 1, "s"))
        snprintf(why, cap, ": %c is %s, not milli: write %gms for milliseconds", *u,
                 *u == 'M' ? "mega (1e6)" : "giga (1e9)", n);
    else if (unread && (isdigit((unsigned char)*u) || *u == '.' || *u == '+' || *u == '-' ||
                        ((*u == 'e' || *u == 'E') && (isdigit((unsigned char)u[1]) || u[1] == '+' || u[1] == '-'))))
        snprintf(why, cap, ": not one number and a unit: the number read ends before '%.20s'", u);
    else if (unread && !strcasecmp(bare, "s"))
        snprintf(why, cap, ": units are lower case (%gs, %gms)", n, n);
    else if (unread)
        snprintf(why, cap, ": '%.20s' is not a unit of time (s, ms, us, ns, min, h)", u);
    else if (x < 0)
        snprintf(why, cap, ": %s is negative", cli_si(num, sizeof num, x, "s"));
    else if (x == 0) /* "0 s" for '0' or '0us' names a unit the flag was not given in */
        snprintf(why, cap, ": 0 is outside it");
    else
        snprintf(why, cap, ": %s is outside it", cli_si(num, sizeof num, x, "s"));
    return why;
}

int cli_time_error(const char *where, const char *flag, const char *v, const char *range, double max_s)
{
    char why[128];
    return cli_usage_error(where, "%s '%s': %s %s%s", flag, v ? v : "", max_s < 1e-3 ? CLI_TIME_SHORT : CLI_TIME, range,
                           cli_time_why(v, why, sizeof why));
}

const char *cli_quantity_hint(const char *s, const char *unit, char *buf, size_t cap)
{
    if (cap)
        buf[0] = 0;
    char *end;
    double x = s ? strtod(s, &end) : 0;
    if (!s || end == s || !isfinite(x) || !*unit || !cap)
        return buf;
    const char *u = end + (*end == ' ');
    if (*u == 'K' && !u[1] && !strcmp(unit, "C")) { /* kelvin, not kilo */
        snprintf(buf, cap, "kelvin is not taken: the unit is C (%g K is %g C)", x, x - 273.15);
        return buf;
    }
    if (*u == 'K' && (!u[1] || !strcasecmp(u + 1, unit))) {
        snprintf(buf, cap, "kilo is a lower-case k (%gk%s)", x, unit);
        return buf;
    }
    const char *bare = strcasecmp(u, unit) ? u + (*u && strchr("pnumkMG", *u)) : u; /* the unit after a prefix */
    if (strcasecmp(bare, unit) || !strcmp(bare, unit) || cli_same_unit(bare, unit))
        return buf; /* another unit, or none, or the right case */
    if (bare > u && (*u == 'm' || *u == 'M'))
        snprintf(buf, cap, "the unit is %s (%gm%s is milli, %gM%s mega)", unit, x, unit, x, unit);
    else
        snprintf(buf, cap, "the unit is %s (%g%.*s%s)", unit, x, (int)(bare - u), u, unit);
    return buf;
}

void cli_list_add(char *buf, size_t cap, size_t *len, unsigned *count, unsigned max, unsigned v)
{
    unsigned c = (*count)++;
    if (c > max || *len >= cap)
        return;
    int w = c == max ? snprintf(buf + *len, cap - *len, ", ...")
                     : snprintf(buf + *len, cap - *len, "%s%u", c ? ", " : "", v);
    *len = w < 0 ? *len : *len + (size_t)w >= cap ? cap - 1 : *len + (size_t)w;
}

const char *cli_si(char *buf, size_t cap, double value, const char *unit)
{
    return cli_si_n(buf, cap, value, unit, 6);
}

const char *cli_si_n(char *buf, size_t cap, double value, const char *unit, int digits)
{
    static const char *const si[] = {"s", "V", "A", "W", "Hz", "Ohm", "ohm"};
    int scaled = 0;
    for (size_t i = 0; i < sizeof si / sizeof si[0]; i++)
        scaled |= !strcmp(unit, si[i]);
    double a = fabs(value), k = 1;
    const char *p = "";
    if (isnan(value)) { /* printf's "-nan" or "nan" */
        snprintf(buf, cap, "NaN%s%s", unit[0] ? " " : "", unit);
        return buf;
    }
    if (scaled && isfinite(value) && a >= 1e-12) { /* below pico: as it is (2.3e-17 V, not 2.3e-05 pV) */
        if (a < 1e-9)
            k = 1e12, p = "p";
        else if (a < 1e-6)
            k = 1e9, p = "n";
        else if (a < 1e-3)
            k = 1e6, p = "u";
        else if (a < 1)
            k = 1e3, p = "m";
        else if (a >= 1e6 && strcmp(unit, "s"))
            k = 1e-6, p = "M";
        else if (a >= 1e3 && strcmp(unit, "s"))
            k = 1e-3, p = "k";
    }
    snprintf(buf, cap, "%.*g%s%s%s",
             digits < 1    ? 1
             : digits > 17 ? 17
                           : digits,
             value * k, unit[0] ? " " : "", p, unit);
    return buf;
}

int cli_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    size_t k = 0;
    int half = -1;
    if (!s)
        return EK3_EPARSE;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++) {
        if (*s == ' ' || *s == ':')
            continue;
        if (!isxdigit((unsigned char)*s))
            return EK3_EPARSE;
        int d = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
        if (half < 0) {
            half = d;
        } else {
            if (k >= cap)
                return EK3_ENOSPC;
            out[k++] = (uint8_t)(half << 4 | d);
            half = -1;
        }
    }
    if (half >= 0)
        return EK3_EPARSE;
    *n = k;
    return EK3_OK;
}

FILE *cli_open_in(const char *path)
{
    if (!strcmp(path, "-"))
        return stdin;
    FILE *f = fopen(path, "r");
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) { /* opens, then every read fails: say so now */
        fclose(f);
        errno = EISDIR;
        return NULL;
    }
    return f;
}

int cli_has_value(const char *opt, const char *v, const char **missing)
{
    /* "--log --realtime": the next word is an option, not the value. */
    if (v && !(v[0] == '-' && v[1] == '-' && v[2]))
        return 1;
    *missing = opt;
    return 0;
}

int cli_empty_path(const char *where, const char *flag, const char *what)
{
    return cli_usage_error(where, "%s '': name a %s (empty)", flag, what);
}

int cli_bad_arg(const char *where, const char *arg, const char *missing)
{
    if (missing)
        return cli_usage_error(where, "%s needs a value", missing);
    const char *eq = arg[0] == '-' && arg[1] == '-' ? strchr(arg, '=') : NULL;
    if (eq && eq > arg + 2) /* "--modules=8": a flag's value is the next word */
        return cli_usage_error(where,
                               "unknown argument '%s' (no '=': a switch stands alone, '%.*s'; a flag that takes "
                               "a value takes the next word, '%.*s %s')",
                               arg, (int)(eq - arg), arg, (int)(eq - arg), arg, eq + 1);
    return cli_usage_error(where, "unknown argument '%s'", arg);
}

/* The name of option WORD up to any '=' ("--src=5" is --src); its length,
 * or 0 when WORD is not an option. */
static size_t cli_opt_len(const char *word)
{
    if (!word || word[0] != '-' || word[1] != '-' || !word[2] || word[2] == '=')
        return 0;
    return strcspn(word, "=");
}

int cli_once(const char *where, cli_seen *s, const char *word, const char *const *many)
{
    size_t l = cli_opt_len(word);
    if (!l)
        return CLI_OK;
    for (const char *const *m = many; m && *m; m++)
        if (strlen(*m) == l && !strncmp(*m, word, l))
            return CLI_OK;
    for (unsigned i = 0; i < s->n; i++)
        if (strlen(s->opt[i]) == l && !strncmp(s->opt[i], word, l))
            return cli_usage_error(where,
                                   "%.*s is given twice: give it once (a value given again would replace the "
                                   "first; a switch given again adds nothing)",
                                   (int)l, word);
    if (s->n < CLI_SEEN_MAX && l < sizeof s->opt[0]) /* longer: no option of ek3's; unknown to its parser */
        snprintf(s->opt[s->n++], sizeof s->opt[0], "%.*s", (int)l, word);
    return CLI_OK;
}

int cli_given(const cli_seen *s, const char *opt)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->opt[i], opt))
            return 1;
    return 0;
}

int cli_exclusive(const char *where, const cli_seen *s, const char *a, const char *b, const char *why)
{
    if (cli_given(s, a) && cli_given(s, b))
        return cli_usage_error(where, "%s and %s cannot be given together: %s", a, b, why);
    return CLI_OK;
}

int cli_needs(const char *where, const cli_seen *s, const char *a, const char *b, const char *why)
{
    if (cli_given(s, a) && !cli_given(s, b))
        return cli_usage_error(where, "%s without %s: %s", a, b, why);
    return CLI_OK;
}

unsigned cli_text_width(FILE *f)
{
    const char *c = getenv("COLUMNS");
    uint64_t v;
    if (c && cli_parse_u64(c, 10000, &v) == 0 && v >= 10)
        return (unsigned)v;
    int fd = fileno(f);
    if (fd < 0 || !isatty(fd))
        return 0;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 10)
        return ws.ws_col;
    return 100;
}

int cli_close_out(const char *where, FILE *f, const char *path)
{
    if (!f)
        return CLI_OK;
    int had = ferror(f);
    errno = 0;
    int rc = fflush(f);
    int e = errno;
    if (fclose(f) && !rc)
        rc = EOF, e = errno;
    if (!had && !rc)
        return CLI_OK;
    return cli_fail(where, "%s: write error: %s", path, strerror(e ? e : EIO));
}

int cli_out_error(FILE *f, const char *path, char *why, size_t cap)
{
    if (!f || !ferror(f))
        return 0;
    errno = 0;
    int e = fflush(f) ? errno : 0;
    snprintf(why, cap, "%s: write error: %s", path, strerror(e ? e : EIO));
    return 1;
}

/* The stop request of a long run: the signal's number, or 0. */
static volatile sig_atomic_t cli_stop_sig;

static struct timespec cli_stop_t0; /* when the first came */

static void cli_on_stop(int sig)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe (POSIX.1-2008) */
    if (!cli_stop_sig) {
        cli_stop_t0 = now;
        cli_stop_sig = sig;
        return;
    }
    /* A second SIGINT or SIGTERM a second or more after the first takes
     * the default action: a run that cannot reach its next poll never
     * holds the user hostage. One within the second is the same stop
     * delivered twice (timeout(1) signals the process and its group;
     * a terminal's Ctrl-C reaches every process of the job) and must not
     * throw away what the first one saves. */
    double dt = (double)(now.tv_sec - cli_stop_t0.tv_sec) + (now.tv_nsec - cli_stop_t0.tv_nsec) * 1e-9;
    if (dt >= 1.0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        raise(sig);
    }
}

int cli_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cli_on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
        return EK3_EIO;
    return EK3_OK;
}

int cli_stop_requested(void)
{
    return cli_stop_sig;
}

const char *cli_stop_name(void)
{
    return cli_stop_sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

/* Set once a command has said standard output failed (cli_stdout_error). */
static int cli_out_told;

int cli_stdout_error(const char *where)
{
    int e = errno;
    if (fflush(stdout))
        e = errno; /* the pending bytes' own error, when there were some */
    if (!cli_out_told)
        fprintf(stderr, "ek3 %s: write error on standard output: %s\n", where, strerror(e ? e : EIO));
    cli_out_told = 1;
    return CLI_FAIL;
}

int cli_finish(int rc)
{
    /* Standard output on a full disk or a closed pipe: say so, and fail. */
    int had = ferror(stdout) || cli_out_told;
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = errno;
    if (!bad && had)
        e = cli_out_errno ? cli_out_errno : EIO; /* a flush before failed (cli_fail's): its errno */
    if (fclose(stdout) && !bad && !had) {
        bad = 1;
        e = errno;
    }
    if (bad || had) {
        if (!cli_out_told) /* once: the command may have said it */
            fprintf(stderr, "ek3: write error on standard output: %s\n", strerror(e ? e : EIO));
        if (rc == CLI_OK)
            rc = CLI_FAIL;
    }
    int sig = cli_stop_sig;
    if (sig) {
        /* Stopped cleanly by SIGINT or SIGTERM: end as killed by it, so
         * that a shell or make sees an interrupted command. */
        fflush(stderr);
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return rc;
}

/* A letter's lower case (ASCII), for comparing names without their case. */
static inline int cli_fold(char ch)
{
    return tolower((unsigned char)ch);
}

unsigned cli_edit_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, 127), lb = strnlen(b, 127);
    unsigned rows[3][128];
    unsigned *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= lb; j++)
        p[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = cli_fold(a[i - 1]) != cli_fold(b[j - 1]);
            unsigned v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && cli_fold(a[i - 1]) == cli_fold(b[j - 2]) &&
                cli_fold(a[i - 2]) == cli_fold(b[j - 1]) && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        unsigned *t = pp;
        pp = p, p = c, c = t;
    }
    return p[lb];
}

static const char *cli_closest_within(const char *s, size_t n, const char *(*name_of)(size_t i, const void *ctx),
                                      const void *ctx, unsigned k, unsigned max_d, char *buf, size_t cap);

const char *cli_closest(const char *s, size_t n, const char *(*name_of)(size_t i, const void *ctx), const void *ctx,
                        unsigned k, char *buf, size_t cap)
{
    return cli_closest_within(s, n, name_of, ctx, k, UINT_MAX, buf, cap);
}

const char *cli_near(const char *s, size_t n, const char *(*name_of)(size_t i, const void *ctx), const void *ctx,
                     unsigned k, char *buf, size_t cap)
{
    size_t l = s ? strlen(s) : 0;
    return cli_closest_within(s, n, name_of, ctx, k, l / 3 > 2 ? (unsigned)(l / 3) : 2u, buf, cap);
}

/* Whether `name` is one of s's words (split at '-', '_' or '.', three
 * characters or more): "igf" in "igf-trip". */
static int cli_word_of(const char *s, const char *name)
{
    size_t ln = strlen(name);
    if (ln < 3)
        return 0;
    for (const char *p = s; *p;) {
        size_t w = strcspn(p, "-_.");
        if (w == ln && !strncasecmp(p, name, ln))
            return 1;
        p += w;
        p += *p != 0;
    }
    return 0;
}

/* The distance a "did you mean" ranks by: cli_edit_distance, or less
 * for two words in the other order ("igf-trip" is 2 from "trip-gfi",
 * not 8); max_d when name is one of s's words ("igf" in "igf-trip"), so
 * that it is offered, after the names nearer by spelling. */
static unsigned cli_name_distance(const char *s, const char *name, unsigned max_d)
{
    unsigned d = cli_edit_distance(s, name);
    size_t l = strnlen(s, 127), w = strcspn(s, "-_.");
    if (w > 0 && w + 1 < l && !strpbrk(s + w + 1, "-_.")) { /* two words: the other way round */
        char sw[128];
        memcpy(sw, s + w + 1, l - w - 1);
        sw[l - w - 1] = s[w];
        memcpy(sw + l - w, s, w);
        sw[l] = '\0';
        unsigned d2 = cli_edit_distance(sw, name);
        d = d2 < d ? d2 : d;
    }
    return d > max_d && cli_word_of(s, name) ? max_d : d;
}

static const char *cli_closest_within(const char *s, size_t n, const char *(*name_of)(size_t i, const void *ctx),
                                      const void *ctx, unsigned k, unsigned max_d, char *buf, size_t cap)
{
    enum { K_MAX = 8 };
    size_t best[K_MAX];
    unsigned bd[K_MAX], got = 0;
    if (k > K_MAX)
        k = K_MAX;
    for (size_t i = 0; i < n; i++) {
        const char *name = name_of(i, ctx);
        if (!name)
            continue;
        unsigned d = cli_name_distance(s, name, max_d), at = got;
        if (d > max_d)
            continue;
        while (at > 0 && bd[at - 1] > d)
            at--;
        if (at >= k)
            continue;
        for (unsigned j = got < k ? got : k - 1; j > at; j--) {
            bd[j] = bd[j - 1];
            best[j] = best[j - 1];
        }
        bd[at] = d;
        best[at] = i;
        if (got < k)
            got++;
    }
    if (cap)
        buf[0] = 0;
    for (unsigned j = 0; j < got; j++) {
        size_t used = strlen(buf);
        snprintf(buf + used, cap - used, "%s%s", j ? ", " : "", name_of(best[j], ctx));
    }
    return buf;
}

/* dirname's realpath and the base name of p into out (PATH_MAX + NAME_MAX);
 * 0, or -1 when the directory does not resolve. */
static int cli_canon(const char *p, char *out, size_t cap)
{
    char d[PATH_MAX], r[PATH_MAX];
    const char *sl = strrchr(p, '/'), *base = sl ? sl + 1 : p;
    if (sl) {
        size_t n = (size_t)(sl - p);
        if (n >= sizeof d)
            return -1;
        memcpy(d, p, n);
        d[n] = 0;
        if (!n)
            strcpy(d, "/");
    } else {
        strcpy(d, ".");
    }
    if (!realpath(d, r))
        return -1;
    snprintf(out, cap, "%s/%s", r, base);
    return 0;
}

int cli_same_file(const char *a, const char *b)
{
    if (!a || !b || !strcmp(a, "/dev/null") || !strcmp(b, "/dev/null"))
        return 0;
    struct stat sa, sb;
    if (!stat(a, &sa) && !stat(b, &sb))
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ca[PATH_MAX + 256], cb[PATH_MAX + 256];
    if (cli_canon(a, ca, sizeof ca) || cli_canon(b, cb, sizeof cb))
        return !strcmp(a, b);
    return !strcmp(ca, cb);
}
