/* The sliced payload copy of the encoders (see copy_internal.h for when and why). */
#include "copy_internal.h"

void sio__copy_slices(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (; n >= SIO__COPY_SLICE;
         n -= SIO__COPY_SLICE, dst += SIO__COPY_SLICE, src += SIO__COPY_SLICE)
        memcpy(dst, src, SIO__COPY_SLICE);
    if (n)
        memcpy(dst, src, n);
}
