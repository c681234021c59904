/* test_fwimg.c - the signed firmware image (firmware/boot/fwimg.h) and its
 * signer (hil_bridge/fwsign.h), through their public APIs and `ek3 fwimg`:
 * published ECDSA vectors, every refusal reason, constant memory, OpenSSL
 * interop both ways, and the CLI's bad inputs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "ek3_err.h"
#include "fwimg.h"
#include "fwsign.h"
#include "mbedtls/sha256.h"

CLI_RUN_SUITE(fwimg, "ek3-fwimg");

#define HW 0x34373447u

/* ---- helpers --------------------------------------------------------- */

static void unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* An image in RAM, read through fwimg_read_fn; counts reads and their
 * largest size; fails (EK3_EIO) at fail_at when set. */
typedef struct mem {
    const uint8_t *b;
    size_t n;
    size_t max_read;
    unsigned reads;
    long fail_at;
} mem;

static int mem_read(void *ctx, uint32_t off, void *buf, size_t n)
{
    mem *m = ctx;
    m->reads++;
    if (n > m->max_read)
        m->max_read = n;
    if (m->fail_at >= 0 && off <= (uint32_t)m->fail_at && (uint32_t)m->fail_at < off + n)
        return EK3_EIO;
    cr_assert_leq((size_t)off + n, m->n, "a read past what is there: %u + %zu > %zu", off, n, m->n);
    memcpy(buf, m->b + off, n);
    return 0;
}

static const fwsign_meta META = {HW, FWSIGN_VERSION(1, 2, 3), 5, 1700000000u};

/* A development-key image of an n-byte patterned payload (malloc'd). */
static uint8_t *make(uint32_t n, size_t *len)
{
    uint8_t *pay = malloc(n ? n : 1), *img = malloc(FWSIGN_SIZE(n));
    for (uint32_t i = 0; i < n; i++)
        pay[i] = (uint8_t)(i * 31u + 7u);
    cr_assert_eq(fwsign_build(NULL, &META, pay, n, img, FWSIGN_SIZE(n), len), 0);
    cr_assert_eq(*len, FWSIGN_SIZE(n));
    free(pay);
    return img;
}

static fwimg_policy policy(void)
{
    fwimg_policy p = {HW, 5, 224u * 1024u, fwsign_dev_pubkey(), NULL};
    return p;
}

/* fwimg_verify over img[avail]; returns the code, *why the reason. */
static int check(const uint8_t *img, size_t avail, const fwimg_policy *p, fwimg_why *why)
{
    mem m = {img, avail, 0, 0, -1};
    fwimg_info info;
    return fwimg_verify(mem_read, &m, (uint32_t)avail, p, &info, why);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void expect_refused(const uint8_t *img, size_t avail, const fwimg_policy *p, fwimg_why want, int code)
{
    fwimg_why why = FWIMG_OK;
    int rc = check(img, avail, p, &why);
    cr_expect_eq(why, want, "reason %s, expected %s", fwimg_why_name(why), fwimg_why_name(want));
    cr_expect_eq(rc, code, "code %s, expected %s", ek3_errname(rc), ek3_errname(code));
}

/* ---- published vectors: RFC 6979 A.2.5, P-256 with SHA-256 ------------- */

static const char *RFC_X = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
static const char *RFC_U = "04"
                           "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
                           "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const struct {
    const char *msg, *r, *s;
} RFC_SIG[] = {
    {"sample", "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"},
    {"test", "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"},
};

Test(fwimg, rfc6979_vectors_verify_and_a_flipped_bit_does_not)
{
    uint8_t pub[65], rs[64], d[32];
    unhex(RFC_U, pub, sizeof pub);
    for (size_t v = 0; v < sizeof RFC_SIG / sizeof RFC_SIG[0]; v++) {
        unhex(RFC_SIG[v].r, rs, 32);
        unhex(RFC_SIG[v].s, rs + 32, 32);
        cr_assert_eq(mbedtls_sha256_ret((const uint8_t *)RFC_SIG[v].msg, strlen(RFC_SIG[v].msg), d, 0), 0);
        cr_expect_eq(fwimg_ecdsa_verify(pub, d, rs), 0, "RFC 6979 A.2.5 '%s'", RFC_SIG[v].msg);
        /* One bit anywhere (r, s, digest, key) and it no longer verifies. */
        for (unsigned bit = 0; bit < 64 * 8; bit += 37) {
            rs[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            cr_expect_eq(fwimg_ecdsa_verify(pub, d, rs), EK3_EFORGED, "bit %u of r||s", bit);
            rs[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        d[5] ^= 0x10;
        cr_expect_eq(fwimg_ecdsa_verify(pub, d, rs), EK3_EFORGED);
        d[5] ^= 0x10;
        uint8_t other[65];
        memcpy(other, fwsign_dev_pubkey(), 65);
        cr_expect_eq(fwimg_ecdsa_verify(other, d, rs), EK3_EFORGED);
        pub[64] ^= 1; /* off the curve */
        cr_expect_eq(fwimg_ecdsa_verify(pub, d, rs), EK3_EINVAL);
        pub[64] ^= 1;
    }
}

Test(fwimg, signing_is_rfc6979_deterministic)
{
    /* The RFC's key and messages: our signer gives exactly its r and s. */
    fwsign_key k;
    unhex(RFC_X, k.d, 32);
    unhex(RFC_U, k.pub, 65);
    for (size_t v = 0; v < sizeof RFC_SIG / sizeof RFC_SIG[0]; v++) {
        uint8_t d[32], rs[64], want[64];
        mbedtls_sha256_ret((const uint8_t *)RFC_SIG[v].msg, strlen(RFC_SIG[v].msg), d, 0);
        unhex(RFC_SIG[v].r, want, 32);
        unhex(RFC_SIG[v].s, want + 32, 32);
        cr_assert_eq(fwsign_sign_digest(&k, d, rs), 0);
        cr_expect_arr_eq(rs, want, 64, "'%s': not RFC 6979's signature", RFC_SIG[v].msg);
    }
    /* The same inputs, the same image. */
    size_t a_n, b_n;
    uint8_t *a = make(1000, &a_n), *b = make(1000, &b_n);
    cr_expect_eq(a_n, b_n);
    cr_expect_arr_eq(a, b, a_n);
    free(a);
    free(b);
}

Test(fwimg, der_signature_round_trip)
{
    uint8_t rs[64], back[64], der[72];
    size_t n;
    for (int v = 0; v < 3; v++) {
        for (int i = 0; i < 64; i++)
            rs[i] = (uint8_t)(v == 0 ? 0x80 + i : v == 1 ? (i < 3 || (i >= 32 && i < 36) ? 0 : i) : 0x7f);
        cr_assert_eq(fwsign_sig_der(rs, der, sizeof der, &n), 0);
        cr_expect_leq(n, 72u);
        cr_assert_eq(fwsign_sig_from_der(der, n, back), 0);
        cr_expect_arr_eq(rs, back, 64);
        cr_expect_eq(fwsign_sig_from_der(der, n - 1, back), EK3_EPARSE);
    }
    cr_expect_eq(fwsign_sig_der(rs, der, 8, &n), EK3_ENOSPC);
}

/* ---- a valid image, and what it says ---------------------------------- */

Test(fwimg, a_signed_image_verifies_with_its_fields)
{
    size_t len;
    uint8_t *img = make(4000, &len);
    fwimg_policy p = policy();
    mem m = {img, len, 0, 0, -1};
    fwimg_info info;
    fwimg_why why = FWIMG_IO;
    cr_assert_eq(fwimg_verify(mem_read, &m, (uint32_t)len, &p, &info, &why), 0, "%s", fwimg_why_name(why));
    cr_expect_eq(why, FWIMG_OK);
    cr_expect_eq(info.hdr.magic, FWIMG_MAGIC);
    cr_expect_eq(info.hdr.hw_id, HW);
    cr_expect_eq(info.hdr.version, 0x010203u);
    cr_expect_eq(info.hdr.security, 5u);
    cr_expect_eq(info.hdr.payload_size, 4000u);
    cr_expect_eq(info.hdr.build_time, 1700000000u);
    cr_expect_eq(info.total, len);
    uint8_t id[8], dig[32];
    cr_assert_eq(fwimg_key_id(fwsign_dev_pubkey(), id), 0);
    cr_expect_arr_eq(info.hdr.key_id, id, 8);
    mbedtls_sha256_ret(img, FWIMG_HDR_SIZE + 4000, dig, 0);
    cr_expect_arr_eq(info.sha256, dig, 32);
    /* In pieces of at most 256 bytes: constant memory whatever the size. */
    cr_expect_leq(m.max_read, 256u);
    cr_expect_geq(m.reads, 4000u / 256u);
    /* Bytes after the image are not its business. */
    uint8_t *more = calloc(1, len + 100);
    memcpy(more, img, len);
    cr_expect_eq(check(more, len + 100, &p, &why), 0);
    /* The floor equal to the counter boots; an empty payload is an image. */
    p.min_security = 5;
    cr_expect_eq(check(img, len, &p, &why), 0);
    free(more);
    free(img);
    img = make(0, &len);
    cr_expect_eq(check(img, len, &p, &why), 0);
    free(img);
}

Test(fwimg, parse_hdr_without_a_policy)
{
    size_t len;
    uint8_t *img = make(10, &len);
    fwimg_hdr h;
    fwimg_why why;
    cr_expect_eq(fwimg_parse_hdr(img, len, NULL, &h, &why), 0);
    cr_expect_eq(h.payload_size, 10u);
    cr_expect_eq(fwimg_parse_hdr(img, FWIMG_HDR_SIZE - 1, NULL, &h, &why), EK3_EPARSE);
    cr_expect_eq(why, FWIMG_TRUNCATED);
    cr_expect_eq(fwimg_parse_hdr(NULL, len, NULL, &h, &why), EK3_EINVAL);
    free(img);
}

/* ---- every refusal ------------------------------------------------------ */

Test(fwimg, every_reason_has_a_distinct_name)
{
    for (int i = 0; i < FWIMG_WHY_COUNT_; i++) {
        cr_expect_str_neq(fwimg_why_name((fwimg_why)i), "?");
        for (int j = 0; j < i; j++)
            cr_expect_str_neq(fwimg_why_name((fwimg_why)i), fwimg_why_name((fwimg_why)j));
    }
    cr_expect_str_eq(fwimg_why_name(FWIMG_WHY_COUNT_), "?");
    cr_expect_str_eq(fwimg_why_name((fwimg_why)-1), "?");
    cr_expect_str_eq(fwimg_why_name(FWIMG_BAD_SIGNATURE), "bad-signature");
}

Test(fwimg, truncated)
{
    size_t len;
    uint8_t *img = make(3000, &len);
    fwimg_policy p = policy();
    expect_refused(img, len - 1, &p, FWIMG_TRUNCATED, EK3_EPARSE);       /* trailer cut */
    expect_refused(img, FWIMG_HDR_SIZE + 10, &p, FWIMG_TRUNCATED, EK3_EPARSE); /* payload cut */
    expect_refused(img, FWIMG_HDR_SIZE - 1, &p, FWIMG_TRUNCATED, EK3_EPARSE);  /* not even a header */
    expect_refused(img, 0, &p, FWIMG_TRUNCATED, EK3_EPARSE);
    free(img);
}

Test(fwimg, bad_magic_header_and_trailer)
{
    size_t len;
    uint8_t *img = make(100, &len);
    fwimg_policy p = policy();
    img[0] ^= 0x20;
    expect_refused(img, len, &p, FWIMG_BAD_MAGIC, EK3_EPARSE);
    img[0] ^= 0x20;
    img[len - FWIMG_TRL_SIZE + 3] ^= 1;
    expect_refused(img, len, &p, FWIMG_BAD_MAGIC, EK3_EPARSE);
    free(img);
}

Test(fwimg, bad_format_header_and_algorithm)
{
    size_t len;
    uint8_t *img = make(100, &len);
    fwimg_policy p = policy();
    put32(img + 4, 2);
    expect_refused(img, len, &p, FWIMG_BAD_FORMAT, EK3_EPARSE);
    put32(img + 4, FWIMG_FORMAT);
    put32(img + len - FWIMG_TRL_SIZE + FWIMG_TRL_ALG_OFF, 2); /* Ed25519, say: not read by this code */
    expect_refused(img, len, &p, FWIMG_BAD_FORMAT, EK3_EPARSE);
    free(img);
}

Test(fwimg, too_big_for_the_slot_and_for_32_bits)
{
    size_t len;
    uint8_t *img = make(2000, &len);
    fwimg_policy p = policy();
    p.max_size = (uint32_t)len - 1;
    expect_refused(img, len, &p, FWIMG_TOO_BIG, EK3_ERANGE);
    p.max_size = (uint32_t)len;
    expect_refused(img, len, &p, FWIMG_OK, 0);
    /* A payload size whose total wraps 32 bits: too big, never a short read. */
    p.max_size = UINT32_MAX;
    put32(img + 20, UINT32_MAX - FWIMG_HDR_SIZE - FWIMG_TRL_SIZE + 1);
    expect_refused(img, len, &p, FWIMG_TOO_BIG, EK3_ERANGE);
    put32(img + 20, UINT32_MAX);
    expect_refused(img, len, &p, FWIMG_TOO_BIG, EK3_ERANGE);
    /* Fits 32 bits but not what is there: truncated. */
    put32(img + 20, UINT32_MAX - FWIMG_HDR_SIZE - FWIMG_TRL_SIZE);
    expect_refused(img, len, &p, FWIMG_TRUNCATED, EK3_EPARSE);
    free(img);
}

Test(fwimg, wrong_hardware_and_downgrade)
{
    size_t len;
    uint8_t *img = make(100, &len);
    fwimg_policy p = policy();
    p.hw_id = HW + 1;
    expect_refused(img, len, &p, FWIMG_WRONG_HW, EK3_EPERM);
    p = policy();
    p.min_security = 6;
    expect_refused(img, len, &p, FWIMG_DOWNGRADE, EK3_EPERM);
    free(img);
}

Test(fwimg, unsigned_image)
{
    size_t len;
    uint8_t *img = make(100, &len);
    fwimg_policy p = policy();
    put32(img + len - FWIMG_TRL_SIZE + FWIMG_TRL_ALG_OFF, 0);
    memset(img + len - FWIMG_TRL_SIZE + FWIMG_TRL_SIG_OFF, 0, 64);
    expect_refused(img, len, &p, FWIMG_UNSIGNED, EK3_EPERM);
    free(img);
}

Test(fwimg, unknown_key)
{
    size_t len;
    uint8_t *img = make(100, &len);
    uint8_t rfc[65];
    unhex(RFC_U, rfc, sizeof rfc);
    fwimg_policy p = policy();
    p.pubkey = rfc; /* a valid key, not the signer's */
    expect_refused(img, len, &p, FWIMG_UNKNOWN_KEY, EK3_EPERM);
    /* The key id names the trusted key, but another key signed: the
     * signature, not the id, decides. */
    fwsign_key k;
    unhex(RFC_X, k.d, 32);
    unhex(RFC_U, k.pub, 65);
    uint8_t *pay = img + FWIMG_HDR_SIZE, *img2 = malloc(len);
    size_t len2;
    cr_assert_eq(fwsign_build(&k, &META, pay, 100, img2, len, &len2), 0);
    memcpy(img2 + 32, img + 32, 8); /* claim the development key's id */
    p = policy();
    fwimg_why why;
    cr_expect_neq(check(img2, len2, &p, &why), 0);
    cr_expect(why == FWIMG_BAD_HASH || why == FWIMG_BAD_SIGNATURE, "%s", fwimg_why_name(why));
    free(img2);
    free(img);
}

Test(fwimg, bad_hash_after_any_changed_byte)
{
    size_t len;
    uint8_t *img = make(777, &len);
    fwimg_policy p = policy();
    /* A payload byte, a reserved header byte, the version, the digest itself. */
    size_t at[] = {FWIMG_HDR_SIZE, FWIMG_HDR_SIZE + 776, 50, 12, len - FWIMG_TRL_SIZE + FWIMG_TRL_SHA_OFF + 31};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        img[at[i]] ^= 0x01;
        expect_refused(img, len, &p, FWIMG_BAD_HASH, EK3_EFORGED);
        img[at[i]] ^= 0x01;
    }
    expect_refused(img, len, &p, FWIMG_OK, 0);
    free(img);
}

Test(fwimg, bad_signature)
{
    size_t len;
    uint8_t *img = make(500, &len);
    fwimg_policy p = policy();
    uint8_t *t = img + len - FWIMG_TRL_SIZE;
    t[FWIMG_TRL_SIG_OFF + 10] ^= 0x80; /* r */
    expect_refused(img, len, &p, FWIMG_BAD_SIGNATURE, EK3_EFORGED);
    t[FWIMG_TRL_SIG_OFF + 10] ^= 0x80;
    t[FWIMG_TRL_SIG_OFF + 63] ^= 0x01; /* s */
    expect_refused(img, len, &p, FWIMG_BAD_SIGNATURE, EK3_EFORGED);
    t[FWIMG_TRL_SIG_OFF + 63] ^= 0x01;
    /* r = 0 and s = 0xff..ff: out of range, refused, no crash. */
    memset(t + FWIMG_TRL_SIG_OFF, 0, 32);
    expect_refused(img, len, &p, FWIMG_BAD_SIGNATURE, EK3_EFORGED);
    memset(t + FWIMG_TRL_SIG_OFF, 0xff, 64);
    expect_refused(img, len, &p, FWIMG_BAD_SIGNATURE, EK3_EFORGED);
    free(img);
    /* The attack that matters: a raised version with its digest recomputed. */
    img = make(500, &len);
    t = img + len - FWIMG_TRL_SIZE;
    put32(img + 16, 99);
    mbedtls_sha256_ret(img, FWIMG_HDR_SIZE + 500, t + FWIMG_TRL_SHA_OFF, 0);
    expect_refused(img, len, &p, FWIMG_BAD_SIGNATURE, EK3_EFORGED);
    free(img);
}

Test(fwimg, read_errors_are_io)
{
    size_t len;
    uint8_t *img = make(1000, &len);
    fwimg_policy p = policy();
    long at[] = {0, FWIMG_HDR_SIZE + 600, (long)len - 1};
    for (size_t i = 0; i < 3; i++) {
        mem m = {img, len, 0, 0, at[i]};
        fwimg_info info;
        fwimg_why why = FWIMG_OK;
        cr_expect_eq(fwimg_verify(mem_read, &m, (uint32_t)len, &p, &info, &why), EK3_EIO);
        cr_expect_eq(why, FWIMG_IO);
    }
    fwimg_why why;
    cr_expect_eq(fwimg_verify(NULL, img, (uint32_t)len, &p, &(fwimg_info){0}, &why), EK3_EINVAL);
    p.pubkey = NULL;
    cr_expect_eq(check(img, len, &p, &why), EK3_EINVAL);
    free(img);
}

/* ---- OpenSSL, both ways ------------------------------------------------ */

static void need_openssl(void)
{
    char out[256];
    if (run(out, sizeof out, "command -v openssl") != 0)
        cr_skip_test("openssl is not installed (ci/install-deps installs it)");
}

Test(fwimg, ek3_images_verify_with_openssl)
{
    need_openssl();
    char out[8192];
    /* Digits: the 'X' written at offset 100 below must change that byte. */
    cr_assert_eq(run(out, sizeof out, "yes 0123456789 | head -c 70000 > %s", path("pay.bin")), 0);
    cr_assert_eq(run(out, sizeof out, "%s fwimg keygen --out %s", EK3_BIN, path("k.pem")), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s fwimg build --key %s --payload %s --version 2.0.1 --security 3 --out %s",
                     EK3_BIN, path("k.pem"), path("pay.bin"), path("img")),
                 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "%s fwimg inspect %s --signed %s --sig-der %s", EK3_BIN, path("img"),
                     path("body"), path("sig.der")),
                 0, "%s", out);
    cr_expect(strstr(out, "matches the bytes"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "openssl dgst -sha256 -verify %s -signature %s %s", path("k.pub.pem"),
                     path("sig.der"), path("body")),
                 0, "%s", out);
    cr_expect(strstr(out, "Verified OK"), "%s", out);
    /* OpenSSL reads our private key and derives the same public key. */
    cr_expect_eq(run(out, sizeof out, "openssl ec -in %s -pubout 2>/dev/null | cmp - %s", path("k.pem"),
                     path("k.pub.pem")),
                 0, "%s", out);
    /* A changed byte: OpenSSL refuses too. */
    cr_assert_eq(run(out, sizeof out, "printf 'X' | dd of=%s bs=1 seek=100 conv=notrunc 2>/dev/null", path("body")), 0);
    cr_expect_neq(run(out, sizeof out, "openssl dgst -sha256 -verify %s -signature %s %s", path("k.pub.pem"),
                      path("sig.der"), path("body")),
                  0, "%s", out);
}

Test(fwimg, openssl_keys_and_signatures_are_accepted)
{
    need_openssl();
    char out[8192];
    cr_assert_eq(run(out, sizeof out, "head -c 5000 /dev/urandom > %s", path("pay.bin")), 0);
    /* The field's keys: SEC1 from ecparam, PKCS#8 from genpkey. */
    cr_assert_eq(run(out, sizeof out, "openssl ecparam -name prime256v1 -genkey -noout -out %s && "
                                      "openssl ec -in %s -pubout -out %s 2>/dev/null",
                     path("o.pem"), path("o.pem"), path("o.pub")),
                 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s && "
                                      "openssl pkey -in %s -pubout -out %s",
                     path("p8.pem"), path("p8.pem"), path("p8.pub")),
                 0, "%s", out);
    const char *keys[][2] = {{"o.pem", "o.pub"}, {"p8.pem", "p8.pub"}};
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(run(out, sizeof out, "%s fwimg build --key %s --payload %s --version 1.0.0 --security 1 --out %s",
                         EK3_BIN, path(keys[i][0]), path("pay.bin"), path("img")),
                     0, "%s", out);
        cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --pubkey %s", EK3_BIN, path("img"), path(keys[i][1])), 0,
                     "%s: %s", keys[i][0], out);
        cr_expect(strstr(out, "valid"), "%s", out);
        cr_expect(!strstr(out, "warning"), "a public key: no warning: %s", out);
    }
    /* A private key where the public one is asked: taken for its public
     * half, with a warning that names the file. */
    cr_assert_eq(run(out, sizeof out, "%s fwimg verify %s --pubkey %s 2>&1", EK3_BIN, path("img"), path("p8.pem")), 0,
                 "%s", out);
    cr_assert(strstr(out, "warning: --pubkey") && strstr(out, "p8.pem is a private key"), "%s", out);
    /* OpenSSL signs the header and payload itself; its DER signature, as
     * r || s in the trailer, verifies with fwimg_verify. */
    cr_assert_eq(run(out, sizeof out, "%s fwimg inspect %s --signed %s", EK3_BIN, path("img"), path("body")), 0);
    cr_assert_eq(run(out, sizeof out, "openssl dgst -sha256 -sign %s -out %s %s", path("p8.pem"), path("osig.der"),
                     path("body")),
                 0, "%s", out);
    FILE *f = fopen(path("img"), "rb");
    cr_assert_not_null(f);
    uint8_t img[5000 + 168], der[80];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    cr_assert_eq(n, sizeof img);
    f = fopen(path("osig.der"), "rb");
    cr_assert_not_null(f);
    size_t dn = fread(der, 1, sizeof der, f);
    fclose(f);
    uint8_t *t = img + n - FWIMG_TRL_SIZE;
    memset(t + FWIMG_TRL_SIG_OFF, 0, 64);
    cr_assert_eq(fwsign_sig_from_der(der, dn, t + FWIMG_TRL_SIG_OFF), 0);
    uint8_t pub[65];
    char why_s[256];
    cr_assert_eq(fwsign_pub_load(path("p8.pub"), pub, why_s, sizeof why_s), 0, "%s", why_s);
    fwimg_policy p = {HW, 0, 224u * 1024u, pub, NULL};
    fwimg_why why;
    cr_expect_eq(check(img, n, &p, &why), 0, "%s", fwimg_why_name(why));
}

/* ---- the CLI ------------------------------------------------------------ */

Test(fwimg, cli_refusals_name_the_reason_and_where)
{
    char out[8192];
    /* Digits, not random bytes: the 'X' written at offset 200 below must
     * change the byte there (a random payload held 'X' there once in 256
     * runs, and the image stayed valid). */
    cr_assert_eq(run(out, sizeof out, "yes 0123456789 | head -c 3000 > %s", path("pay.bin")), 0);
    cr_assert_eq(run(out, sizeof out, "%s fwimg build --dev-key --payload %s --version 1.2.3 --security 4 --out %s",
                     EK3_BIN, path("pay.bin"), path("img")),
                 0, "%s", out);
    cr_expect(!strstr(out, "warning"), "%s", out);
    /* a counter so high that few releases can follow it: built, with a warning */
    cr_assert_eq(run(out, sizeof out, "%s fwimg build --dev-key --payload %s --version 1.2.3 --security 4294967295 --out %s",
                     EK3_BIN, path("pay.bin"), path("img-hi")),
                 0, "%s", out);
    cr_expect(strstr(out, "warning: security 4294967295: a module that confirms this image raises its floor"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key --floor 4", EK3_BIN, path("img")), 0, "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key --floor 5", EK3_BIN, path("img")), 1, "%s", out);
    cr_expect(strstr(out, "downgrade: security 4 at offset 16"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key --hw 0x1234", EK3_BIN, path("img")), 1, "%s", out);
    cr_expect(strstr(out, "wrong-hw"), "%s", out);
    /* the id as inspect shows it, its four characters, is the same id; three are bad input */
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key --hw G474", EK3_BIN, path("img")), 0, "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key --hw G47", EK3_BIN, path("img")), 2, "%s", out);
    cr_expect(strstr(out, "--hw 'G47': a 32-bit hardware id: a number or its four characters"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key --hw 474G", EK3_BIN, path("img")), 1, "%s", out);
    cr_expect(strstr(out, "wrong-hw"), "another id: %s", out);
    /* A payload byte changed: bad-hash, at the trailer's digest. */
    cr_assert_eq(run(out, sizeof out, "printf 'X' | dd of=%s bs=1 seek=200 conv=notrunc 2>/dev/null", path("img")), 0);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key", EK3_BIN, path("img")), 1, "%s", out);
    cr_expect(strstr(out, "REFUSED: bad-hash: the trailer's sha256 at offset 3072"), "%s", out);
    /* Cut short. */
    cr_assert_eq(run(out, sizeof out, "head -c 3100 %s > %s", path("img"), path("cut")), 0);
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key", EK3_BIN, path("cut")), 1, "%s", out);
    cr_expect(strstr(out, "truncated: the file is 3100 bytes"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg inspect %s", EK3_BIN, path("cut")), 1, "%s", out);
    /* an output that cannot be created is said before anything is shown (the inspection printed first), and
     * one a failed inspection leaves unwritten is removed */
    cr_expect_eq(run(out, sizeof out, "%s fwimg inspect %s --signed /nonexistent/body", EK3_BIN, path("img-hi")), 1,
                 "%s", out);
    cr_expect(!strstr(out, "image ") && strstr(out, "/nonexistent/body: cannot create"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg inspect %s --signed %s", EK3_BIN, path("cut"), path("body")), 1, "%s",
                 out);
    cr_expect_neq(access(path("body"), F_OK), 0, "no empty body left behind");
    /* an export over the image itself, or the pair to one file: refused (the image lost its trailer, exit 0); a
     * failed second export takes the first with it */
    cr_expect_eq(run(out, sizeof out, "%s fwimg inspect %s --signed %s", EK3_BIN, path("img-hi"), path("img-hi")), 2,
                 "%s", out);
    cr_expect(strstr(out, "is the image: it would be overwritten"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg inspect %s --signed %s --sig-der %s", EK3_BIN, path("img-hi"),
                     path("x.bin"), path("x.bin")),
                 2, "%s", out);
    cr_expect(strstr(out, "--signed and --sig-der name one file"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg inspect %s --signed %s --sig-der /dev/full", EK3_BIN, path("img-hi"),
                     path("b5.bin")),
                 1, "%s", out);
    cr_expect_neq(access(path("b5.bin"), F_OK), 0, "no half pair of exports left behind");
    cr_expect_eq(run(out, sizeof out, "%s fwimg verify %s --dev-key", EK3_BIN, path("img-hi")), 0, "still whole: %s",
                 out);
    /* an image over its own payload: refused (the payload was replaced, exit 0) */
    cr_expect_eq(run(out, sizeof out, "%s fwimg build --dev-key --payload %s --version 1.2.3 --security 4 --out %s",
                     EK3_BIN, path("pay.bin"), path("pay.bin")),
                 2, "%s", out);
    cr_expect(strstr(out, "is the --payload file: it would be overwritten"), "%s", out);
}

Test(fwimg, cli_bad_inputs_are_named)
{
    char out[8192];
    cr_assert_eq(run(out, sizeof out, "head -c 100 /dev/urandom > %s; echo 'not a key' > %s", path("pay.bin"),
                     path("bad.pem")),
                 0);
    cr_assert_eq(run(out, sizeof out, "%s fwimg keygen --out %s", EK3_BIN, path("k.pem")), 0, "%s", out);
    const char *b = "fwimg build --payload";
    struct {
        char cmd[512];
        const char *want;
    } c[13];
    int n = 0;
    snprintf(c[n].cmd, sizeof c[n].cmd, "%s %s --key %s --version 1.2.3 --security 1 --out %s", b, path("nope"),
             path("k.pem"), path("i"));
    c[n++].want = "--payload";
    snprintf(c[n].cmd, sizeof c[n].cmd, "%s %s --key %s --version 1.2.3 --security 1 --out %s", b, path("pay.bin"),
             path("nokey.pem"), path("i"));
    c[n++].want = "nokey.pem: cannot open";
    snprintf(c[n].cmd, sizeof c[n].cmd, "%s %s --key %s --version 1.2.3 --security 1 --out %s", b, path("pay.bin"),
             path("bad.pem"), path("i"));
    c[n++].want = "bad.pem: not a private key";
    snprintf(c[n].cmd, sizeof c[n].cmd, "%s %s --key %s --version 1.2.3 --security 1 --out %s", b, path("pay.bin"),
             path("k.pub.pem"), path("i"));
    c[n++].want = "k.pub.pem: a public key";
    /* an empty payload: an image of nothing was built and signed */
    snprintf(c[n].cmd, sizeof c[n].cmd, "%s /dev/null --key %s --version 1.2.3 --security 1 --out %s", b, path("k.pem"),
             path("i"));
    c[n++].want = "--payload /dev/null: empty: an image carries the firmware binary";
    const char *vers[] = {"1.2", "1.2.3.4", "a.b.c", "1.256.0", "1..3", "-1.2.3"};
    for (int v = 0; v < 6; v++) {
        snprintf(c[n].cmd, sizeof c[n].cmd, "%s %s --key %s --version %s --security 1 --out %s", b, path("pay.bin"),
                 path("k.pem"), vers[v], path("i"));
        c[n++].want = "--version";
    }
    snprintf(c[n].cmd, sizeof c[n].cmd, "fwimg verify %s --pubkey %s", path("nope"), path("k.pub.pem"));
    c[n++].want = "nope: No such file";
    snprintf(c[n].cmd, sizeof c[n].cmd, "fwimg verify %s --pubkey %s", path("pay.bin"), path("bad.pem"));
    c[n++].want = "bad.pem: not a public key";
    for (int i = 0; i < n; i++) {
        cr_expect_eq(run(out, sizeof out, "%s %s", EK3_BIN, c[i].cmd), 2, "%s: %s", c[i].cmd, out);
        cr_expect(strstr(out, c[i].want), "%s: wanted '%s' in: %s", c[i].cmd, c[i].want, out);
    }
    /* Wrong key types, when openssl can make them. */
    if (run(out, sizeof out, "command -v openssl") == 0) {
        cr_assert_eq(run(out, sizeof out, "openssl genrsa -out %s 1024 && openssl ecparam -name secp384r1 -genkey "
                                          "-noout -out %s",
                         path("rsa.pem"), path("p384.pem")),
                     0, "%s", out);
        const char *k[][2] = {{"rsa.pem", "type RSA"}, {"p384.pem", "secp384r1, not P-256"}};
        for (int i = 0; i < 2; i++) {
            cr_expect_eq(run(out, sizeof out, "%s %s %s --key %s --version 1.2.3 --security 1 --out %s", EK3_BIN, b,
                             path("pay.bin"), path(k[i][0]), path("i")),
                         2, "%s", out);
            cr_expect(strstr(out, k[i][1]), "%s", out);
        }
    }
    /* An image is not written over its key (it replaced the private key, exit 0), and a key whose public half
     * cannot be written leaves no private half (a retry then needed --force). */
    cr_expect_eq(run(out, sizeof out, "%s %s %s --key %s --version 1.2.3 --security 1 --out %s", EK3_BIN, b,
                     path("pay.bin"), path("k.pem"), path("k.pem")),
                 2, "%s", out);
    cr_expect(strstr(out, "is the --key file: the key would be overwritten"), "%s", out);
    cr_expect_eq(run(out, sizeof out, "%s fwimg keygen --out %s --pub /nonexistent/p.pem", EK3_BIN, path("k2.pem")), 1,
                 "%s", out);
    cr_expect_neq(access(path("k2.pem"), F_OK), 0, "no private key left without its public half");
    /* A key is not replaced without --force. */
    cr_expect_eq(run(out, sizeof out, "%s fwimg keygen --out %s", EK3_BIN, path("k.pem")), 2, "%s", out);
    cr_expect(strstr(out, "exists"), "%s", out);
    /* nor into a device, --force or not (a /dev/null key was lost, its public half left beside it, exit 0) */
    cr_expect_eq(run(out, sizeof out, "%s fwimg keygen --out /dev/null --force --pub %s", EK3_BIN, path("nul.pub")), 2,
                 "%s", out);
    cr_expect(strstr(out, "--out /dev/null is not a regular file: the private key must be kept in one"), "%s", out);
    cr_expect_neq(access(path("nul.pub"), F_OK), 0, "no public half written");
}
