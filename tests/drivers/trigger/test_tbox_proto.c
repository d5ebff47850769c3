/* test_tbox_proto.c: trigger box frames: CRC vector, round trips, partial input, garbage rejection.
 */
#include <errno.h>
#include <stdlib.h>

#include "../../check.h"
#include "tbox_proto.h"

int main(void)
{
	CHECK_EQ_INT(bl_tbox_crc16((const uint8_t *)"123456789", 9), 0x29b1);

	struct bl_tbox_frame f = {.type = BL_TBOX_ARM, .seq = 7}, g;
	struct bl_tbox_train t = {.channel = 2,
				  .start_tick = 0x0123456789abcdefull,
				  .period_ticks = 1000000,
				  .width_ticks = 1000,
				  .count = 600},
			     u;
	bl_tbox_train_put(&t, &f);
	uint8_t wire[BL_TBOX_MAX_FRAME];
	size_t n = bl_tbox_encode(&f, wire);
	CHECK_EQ_INT(n, 6 + 24 + 2);
	CHECK_EQ_INT(wire[0], BL_TBOX_MAGIC);
	CHECK_EQ_INT(wire[4], 24);	 /* little-endian length */
	CHECK_EQ_INT(wire[6 + 4], 0xef); /* start tick, little-endian */
	for (size_t k = 0; k < n; k++)	 /* a frame cut short asks for more bytes */
		CHECK_EQ_INT(bl_tbox_decode(wire, k, &g), 0);
	CHECK_EQ_INT(bl_tbox_decode(wire, n, &g), (int)n);
	CHECK_EQ_INT(g.seq, 7);
	CHECK_EQ_INT(bl_tbox_train_get(&g, &u), 0);
	CHECK(u.channel == 2 && u.start_tick == t.start_tick && u.period_ticks == 1000000 &&
	      u.width_ticks == 1000 && u.count == 600);
	g.len = 23;
	CHECK_EQ_INT(bl_tbox_train_get(&g, &u), -EBADMSG);

	/* every single-bit error is caught by the CRC or the header checks */
	for (size_t k = 0; k < n; k++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t bad[BL_TBOX_MAX_FRAME];
			memcpy(bad, wire, n);
			bad[k] ^= (uint8_t)(1u << bit);
			int rc = bl_tbox_decode(bad, n, &g);
			CHECK(rc == -EBADMSG || rc == 0); /* 0: a corrupted length asks for more */
		}
	}
	uint8_t big[8] = {BL_TBOX_MAGIC, 1, 1, 0, 0xff, 0xff, 0, 0};
	CHECK_EQ_INT(bl_tbox_decode(big, sizeof(big), &g), -EBADMSG); /* length over the limit */

	struct bl_tbox_edge e = {.channel = 3,
				 .kind = BL_TBOX_EDGE_IN_FALL,
				 .index = 99,
				 .tick = 1234567890123ull},
			    e2;
	uint8_t rec[BL_TBOX_EDGE_SIZE];
	bl_tbox_edge_put(&e, rec);
	bl_tbox_edge_get(rec, &e2);
	CHECK(e2.channel == 3 && e2.kind == BL_TBOX_EDGE_IN_FALL && e2.index == 99 &&
	      e2.tick == e.tick);

	srand(5); /* random bytes: never a crash, never a frame with a wrong CRC accepted */
	for (int i = 0; i < 200000; i++) {
		uint8_t buf[40];
		size_t len = (size_t)(rand() % 40);
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)(k == 0 && rand() % 2 ? BL_TBOX_MAGIC : rand());
		int rc = bl_tbox_decode(buf, len, &g);
		if (rc > 0)
			CHECK_EQ_INT(bl_tbox_crc16(buf, (size_t)rc - 2),
				     bl_tbox_get16(buf + rc - 2));
	}
	return CHECK_DONE();
}
