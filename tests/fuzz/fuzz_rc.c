/* libFuzzer target: the rc file (config_rc.c's relaxed JSON), then what
 * configure does with it short of the network: the pretty layout that
 * caemp saves must parse to the same value, every profile resolves (the
 * parent chain, the node id template), and the host:port strings of
 * binds and seeds go through the address parser; a parsed address
 * formatted again parses to the same bytes. Host names are never looked
 * up: binds and seeds are forced empty for the resolve. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aemp/error.h"
#include "aemp/value.h"
#include "config.h"
#include "fuzz_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pretty(const aemp_val *rc)
{
    if (fuzz_json_lossy(rc))
        return; /* cannot come back equal (fuzz_value.h) */
    size_t len;
    char *text = NULL;
    if (aempi_json_pretty(rc, &text, &len))
        return; /* nested too deep to write */
    aemp_val *again = NULL;
    char *err = NULL;
    if (aempi_rc_parse(text, len, "pretty", &again, &err) ||
        !aemp_equal(rc, again)) {
        fprintf(stderr, "saved layout does not read back: %s\n%s\n",
                err ? err : "(different value)", text);
        abort();
    }
    aemp_unref(again);
    free(text);
}

static void resolve_profile(const aemp_val *rc, const char *profile)
{
    aemp_val *args = aemp_map();
    if (!args)
        abort();
    if (profile)
        aemp_map_set(args, "profile", aemp_str(profile));
    aemp_map_set(args, "force", aemp_int(1));
    aemp_map_set(args, "binds", aemp_array());
    aemp_map_set(args, "seeds", aemp_array());
    aemp_val *none = aemp_array();
    aemp_config_env env = {NULL, rc, "fuzzhost", "FuzzRuniqA", none};
    aemp_val *cfg = NULL;
    char *err = NULL;
    int randomised;
    int r = aempi_config_resolve_env(args, &env, &cfg, &randomised, &err);
    /* libFuzzer stops at its malloc limit long before memory runs out:
     * a small input that gives "out of memory" is a bug */
    if (r == AEMP_ENOMEM) {
        fprintf(stderr, "resolving profile %s: out of memory\n",
                profile ? profile : "(none)");
        abort();
    }
    if (!r && !aemp_str_ptr(aemp_map_get(cfg, "nodeid"), NULL))
        abort(); /* a resolved configuration always has a node id */
    free(err);
    aemp_unref(cfg);
    aemp_unref(none);
    aemp_unref(args);
}

static void check_address(const char *s)
{
    char *host = NULL, *port = NULL;
    if (aempi_parse_hostport(s, "0", &host, &port))
        return;
    unsigned char addr[16], again[16];
    size_t n = aempi_parse_address(host, addr);
    if (n) {
        char text[64];
        aempi_format_address(addr, n, text);
        if (aempi_parse_address(text, again) != n || memcmp(addr, again, n)) {
            fprintf(stderr, "address %s formatted as %s reads back "
                            "differently\n", host, text);
            abort();
        }
    }
    free(host);
    free(port);
}

static void check_addresses(const aemp_val *cfg)
{
    static const char *const keys[] = {"binds", "seeds"};
    for (int k = 0; k < 2; k++) {
        const aemp_val *list = aemp_map_get(cfg, keys[k]);
        for (size_t i = 0; i < aemp_array_len(list); i++) {
            const char *s = aemp_str_ptr(aemp_array_at(list, i), NULL);
            if (s)
                check_address(s);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aemp_val *rc = NULL;
    char *err = NULL;
    if (aempi_rc_parse((const char *)data, size, "fuzz", &rc, &err)) {
        free(err);
        return 0;
    }
    check_pretty(rc);
    resolve_profile(rc, NULL);
    check_addresses(rc);
    const aemp_val *profiles = aemp_map_get(rc, "profile");
    for (size_t i = 0; i < aemp_map_len(profiles) && i < 16; i++) {
        const char *name = aemp_map_key_at(profiles, i, NULL);
        resolve_profile(rc, name);
        check_addresses(aemp_map_value_at(profiles, i));
    }
    aemp_unref(rc);
    return 0;
}
