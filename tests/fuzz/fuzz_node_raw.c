/* libFuzzer target: a node's link before authentication. The input is
 * everything the peer sends: its greeting, nonce and auth lines and
 * whatever follows. A correct cleartext auth line ("cleartext;" and the
 * hex of FUZZ_SECRET, which the seeds hold) reaches the data phase; the
 * hmac one cannot be guessed (fuzz_node_auth plays it). The node must
 * not crash, leak or hang, whatever comes. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_peer p;
    fuzz_peer_open(&p);
    fuzz_peer_write(&p, data, size);
    fuzz_peer_close(&p);
    return 0;
}
