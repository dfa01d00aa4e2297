/* libFuzzer target: the json framing's reader (fuzz_frames.h says what is
 * checked). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_frames_check(&fuzz_json_reader, data, size);
    return 0;
}
