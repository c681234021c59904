/* host_crypto.c - AES-CMAC through mbedTLS for the host HAL. */
#include "host_crypto.h"

#include <mbedtls/cipher.h>
#include <mbedtls/cmac.h>

#include "ek3_err.h"

int hostcrypto_cmac(void *ctx, const uint8_t key[16], const uint8_t *msg, size_t len,
                    uint8_t tag[16])
{
    (void)ctx;
    const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_ECB);
    if (!info || !key || !tag || (len && !msg))
        return EK3_ECRYPTO;
    static const uint8_t empty[1] = {0};
    if (mbedtls_cipher_cmac(info, key, 128, len ? msg : empty, len, tag) != 0)
        return EK3_ECRYPTO;
    return EK3_OK;
}

auth_crypto hostcrypto_auth(void)
{
    auth_crypto c = {hostcrypto_cmac, NULL};
    return c;
}
