/* Unit tests of the byte buffers' kept blocks (buf_keep_blocks): emptied blocks are kept up to
 * the bound and no further, handed to the next buffers that start at their size, and freed when
 * the keeping stops. */
#include <string.h>

#include "buf.h"
#include "check.h"

#define FIRST_MAX 3
#define LARGE     16384u

/* An emptied buffer of one BUF_FIRST_BLOCK block, its block's address in *block. */
static void fill_and_empty(buf *b, uint8_t **block)
{
    buf_append(b, "x", 1);
    CHECK_EQ_INT((int)b->cap, (int)BUF_FIRST_BLOCK);
    *block = b->data;
    buf_consume(b, 1);
    CHECK(b->data == NULL);
}

/* Up to FIRST_MAX emptied blocks are kept, the one past the bound is freed; the kept ones come
 * back last in, first out, to buffers that start empty, and only to those. */
static void test_first_blocks_bound(void)
{
    bool large = true;
    buf_keep_blocks(FIRST_MAX, LARGE);
    CHECK_EQ_INT((int)buf_kept_blocks(&large), 0);
    CHECK(!large);
    buf bufs[FIRST_MAX + 1];
    uint8_t *blocks[FIRST_MAX + 1];
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < FIRST_MAX + 1; i++)
        buf_append(&bufs[i], "x", 1); /* all live at once, as a broadcast's outputs */
    for (int i = 0; i < FIRST_MAX + 1; i++) {
        blocks[i] = bufs[i].data;
        buf_reset(&bufs[i]);
        CHECK_EQ_INT((int)buf_kept_blocks(&large), i < FIRST_MAX ? i + 1 : FIRST_MAX);
    }
    buf again = {0};
    uint8_t *block = NULL;
    buf_append(&again, "y", 1);
    CHECK(again.data == blocks[FIRST_MAX - 1]);
    CHECK_EQ_INT((int)buf_kept_blocks(&large), FIRST_MAX - 1);
    buf_reset(&again);
    CHECK_EQ_INT((int)buf_kept_blocks(&large), FIRST_MAX);
    buf bigger = {0};
    buf_reserve(&bigger, 2 * BUF_FIRST_BLOCK); /* not a first block's size: allocated anew */
    CHECK_EQ_INT((int)buf_kept_blocks(&large), FIRST_MAX);
    buf_reset(&bigger); /* nor kept */
    CHECK_EQ_INT((int)buf_kept_blocks(&large), FIRST_MAX);
    fill_and_empty(&again, &block);
    CHECK(block == blocks[FIRST_MAX - 1]);
    buf_keep_blocks(0, 0);
    CHECK_EQ_INT((int)buf_kept_blocks(&large), 0);
    fill_and_empty(&again, &block); /* keeping stopped: freed again */
    CHECK_EQ_INT((int)buf_kept_blocks(&large), 0);
}

/* One large block is kept, a second one is freed, and the kept one serves the next read-size
 * reservation of an empty buffer. */
static void test_large_block(void)
{
    bool large = false;
    buf_keep_blocks(FIRST_MAX, LARGE);
    buf a = {0}, b = {0};
    buf_reserve(&a, LARGE);
    buf_reserve(&b, LARGE);
    CHECK_EQ_INT((int)a.cap, (int)LARGE);
    uint8_t *kept = a.data;
    buf_reset(&a);
    CHECK(buf_kept_blocks(&large) == 0 && large);
    buf_reset(&b); /* one past the bound */
    CHECK(large);
    buf_reserve(&b, LARGE);
    CHECK(b.data == kept);
    buf_kept_blocks(&large);
    CHECK(!large);
    buf_append(&b, "z", 1); /* fits: no growth */
    CHECK(b.data == kept);
    buf_reset(&b);
    buf_keep_blocks(0, 0);
    CHECK(buf_kept_blocks(&large) == 0 && !large);
}

int main(void)
{
    test_first_blocks_bound();
    test_large_block();
    CHECK_DONE();
}
