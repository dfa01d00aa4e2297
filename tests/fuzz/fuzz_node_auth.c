/* libFuzzer target: a node's link in the data phase. The harness plays a
 * correct peer: its greeting, and an hmac_sha3_512 auth line computed
 * from the node's greeting and FUZZ_SECRET; then the input after its
 * first byte goes to the node as frames, in the json framing when that
 * byte is even, else in cbor. The node must not crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_node.h"
#include "transport_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char nonce[] = "ZnV6enBlZXIncyBub25jZSwgbm90IHJhbmRvbSBidXQgbm"
                            "90IHRoZSBub2RlJ3MgZWl0aGVyLCBub3IgZWNobw";

static void authenticate(fuzz_peer *p, const char *framing)
{
    char greeting[256], line[256], auth[129];
    snprintf(greeting, sizeof greeting,
             "aemp;1;" FUZZ_PEER_ID ";hmac_sha3_512;%s;provider=fuzz;"
             "peeraddr=127.0.0.1:4041;mproto=1;gproto=1",
             framing);
    snprintf(line, sizeof line, "%s\n%s\n", greeting, nonce);
    fuzz_peer_write(p, line, strlen(line));
    char *node[2];
    if (fuzz_peer_read_lines(p, 2, node)) {
        fprintf(stderr, "the node closed before its greeting\n");
        abort();
    }
    if (aempi_auth_value("hmac_sha3_512", FUZZ_SECRET, strlen(FUZZ_SECRET),
                         greeting, nonce, node[0], node[1], auth,
                         sizeof auth))
        abort();
    snprintf(line, sizeof line, "hmac_sha3_512;%s;%s\n", auth, framing);
    fuzz_peer_write(p, line, strlen(line));
    free(node[0]);
    free(node[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    fuzz_peer p;
    fuzz_peer_open(&p);
    authenticate(&p, data[0] & 1 ? "cbor" : "json");
    fuzz_peer_write(&p, data + 1, size - 1);
    fuzz_peer_close(&p);
    if (!p.up) {
        fprintf(stderr, "the handshake failed: the frames never reached "
                        "the data phase\n");
        abort();
    }
    return 0;
}
