/* test_agent_join.c: the frame/edge join on a virtual clock: edges before and after their frame,
 * never (untagged after the bound), order, "untagged" records, full slots; edge JSON parsing. */
#include <errno.h>
#include <string.h>

#include "../check.h"
#include "bl_join.h"

#define MAXOUT 64

static struct out {
	uint64_t frame;
	bool tagged;
	int sample;
	uint8_t first_byte;
} out[MAXOUT];
static int nout;

static int emit(void *ctx, const struct bl_join_frame *f, const struct bl_edge *e)
{
	(void)ctx;
	if (nout < MAXOUT)
		out[nout++] = (struct out){f->frame, e != NULL, e && e->has_sample ? e->sample : -1,
					   ((const uint8_t *)f->chunk)[0]};
	return 0;
}

static struct bl_edge edge(uint64_t series, uint64_t frame, int sample)
{
	struct bl_edge e = {.series = series,
			    .kind = BL_EDGE_FRAME,
			    .has_frame = true,
			    .frame = frame,
			    .t = 1000 + frame,
			    .has_sample = sample >= 0,
			    .sample = sample};
	snprintf(e.barcode, sizeof(e.barcode), "BL%d", sample);
	e.untagged = sample < 0;
	return e;
}

static uint8_t chunk[64];

static int frame(struct bl_join *j, uint64_t now, uint64_t series, uint64_t n)
{
	memset(chunk, (int)(n + 1), sizeof(chunk));
	struct bl_join_frame f = {
	    .series = series, .frame = n, .chunk = chunk, .chunk_bytes = sizeof(chunk)};
	int rc = bl_join_frame(j, now, &f, emit, NULL);
	memset(chunk, 0xee, sizeof(chunk)); /* the join must have copied what waits */
	return rc;
}

static void test_before_after_never(void)
{
	struct bl_join *j;
	struct bl_join_config cfg = {.slots = 4, .edges = 16, .wait_us = 2000000};
	CHECK_EQ_INT(bl_join_new(&j, &cfg), 0);
	CHECK_EQ_INT(bl_join_series(j, 7, sizeof(chunk)), 0);
	nout = 0;
	/* frame 0: its edge came first -> out at once, tagged */
	struct bl_edge e = edge(7, 0, 3);
	CHECK_EQ_INT(bl_join_edge(j, 0, &e, emit, NULL), 0);
	CHECK_EQ_INT(frame(j, 10, 7, 0), 0);
	CHECK_EQ_INT(nout, 1);
	CHECK(out[0].tagged && out[0].sample == 3 && out[0].first_byte == 1);
	/* frame 1: edge 0.5 s after the frame -> waits, then tagged */
	CHECK_EQ_INT(frame(j, 100, 7, 1), 0);
	CHECK_EQ_INT(nout, 1);
	CHECK_EQ_INT(bl_join_waiting(j), 1);
	CHECK_EQ_INT(bl_join_deadline(j), 100 + 2000000);
	CHECK_EQ_INT(bl_join_poll(j, 500000, emit, NULL), 0);
	CHECK_EQ_INT(nout, 1);
	e = edge(7, 1, 3);
	CHECK_EQ_INT(bl_join_edge(j, 500100, &e, emit, NULL), 0);
	CHECK_EQ_INT(nout, 2);
	CHECK(out[1].frame == 1 && out[1].tagged && out[1].first_byte == 2);
	/* frame 2: no edge ever -> untagged once the bound is over, not before */
	CHECK_EQ_INT(frame(j, 600000, 7, 2), 0);
	/* frame 3 has its edge, but waits behind frame 2 (frames leave in order) */
	e = edge(7, 3, 3);
	CHECK_EQ_INT(bl_join_edge(j, 600001, &e, emit, NULL), 0);
	CHECK_EQ_INT(frame(j, 600002, 7, 3), 0);
	CHECK_EQ_INT(nout, 2);
	CHECK_EQ_INT(bl_join_poll(j, 2599999, emit, NULL), 0);
	CHECK_EQ_INT(nout, 2);
	CHECK_EQ_INT(bl_join_poll(j, 2600000, emit, NULL), 0);
	CHECK_EQ_INT(nout, 4);
	CHECK(out[2].frame == 2 && !out[2].tagged && out[2].first_byte == 3);
	CHECK(out[3].frame == 3 && out[3].tagged && out[3].first_byte == 4);
	/* frame 2's edge after all: counted late, never applied */
	e = edge(7, 2, 3);
	CHECK_EQ_INT(bl_join_edge(j, 2600100, &e, emit, NULL), 0);
	CHECK_EQ_INT(nout, 4);
	/* an "untagged" record: the frame goes out at once, untagged */
	e = edge(7, 4, -1);
	CHECK_EQ_INT(bl_join_edge(j, 2700000, &e, emit, NULL), 0);
	CHECK_EQ_INT(frame(j, 2700001, 7, 4), 0);
	CHECK_EQ_INT(nout, 5);
	CHECK(!out[4].tagged);
	/* missing and cut records are counted */
	e = edge(7, 0, 3);
	e.kind = BL_EDGE_MISSING;
	e.has_frame = false;
	bl_join_edge(j, 2700002, &e, emit, NULL);
	e.kind = BL_EDGE_CUT;
	bl_join_edge(j, 2700003, &e, emit, NULL);
	const struct bl_join_counters *c = bl_join_counters(j);
	CHECK_EQ_INT(c->frames, 5);
	CHECK_EQ_INT(c->tagged, 3);
	CHECK_EQ_INT(c->untagged, 2);
	CHECK_EQ_INT(c->waited, 2);
	CHECK_EQ_INT(c->edges_late, 1);
	CHECK_EQ_INT(c->edge_missing, 1);
	CHECK_EQ_INT(c->edge_cut, 1);
	CHECK_EQ_INT(c->edges, 7);
	bl_join_free(j);
}

static void test_full_and_series(void)
{
	struct bl_join *j;
	struct bl_join_config cfg = {.slots = 2, .edges = 8, .wait_us = 1000};
	CHECK_EQ_INT(bl_join_new(&j, &cfg), 0);
	CHECK_EQ_INT(bl_join_series(j, 1, sizeof(chunk)), 0);
	nout = 0;
	CHECK_EQ_INT(frame(j, 0, 1, 0), 0);
	CHECK_EQ_INT(frame(j, 1, 1, 1), 0);
	CHECK(bl_join_full(j));
	/* a third frame is refused (the caller stops reading the stream), not dropped */
	struct bl_edge e = edge(1, 2, 5);
	CHECK_EQ_INT(bl_join_edge(j, 2, &e, emit, NULL), 0);
	CHECK_EQ_INT(frame(j, 2, 1, 2), -ENOSPC);
	CHECK_EQ_INT(bl_join_counters(j)->frames, 2);
	CHECK_EQ_INT(bl_join_series(j, 2, sizeof(chunk)), -EBUSY);
	CHECK_EQ_INT(bl_join_poll(j, 1000, emit, NULL), 0);
	CHECK_EQ_INT(nout, 1);
	CHECK_EQ_INT(frame(j, 1000, 1, 2), 0); /* retried: its edge was kept */
	CHECK_EQ_INT(bl_join_drain(j, emit, NULL), 0);
	CHECK_EQ_INT(nout, 3);
	CHECK(!out[0].tagged && !out[1].tagged && out[2].tagged && out[2].sample == 5);
	/* edges of the next series may come before its header */
	e = edge(2, 0, 9);
	CHECK_EQ_INT(bl_join_edge(j, 2000, &e, emit, NULL), 0);
	CHECK_EQ_INT(bl_join_series(j, 2, sizeof(chunk)), 0);
	CHECK_EQ_INT(frame(j, 2001, 2, 0), 0);
	CHECK_EQ_INT(nout, 4);
	CHECK(out[3].tagged && out[3].sample == 9);
	/* a frame larger than the series' chunk size cannot wait */
	struct bl_join_frame big = {.series = 2, .frame = 1, .chunk = chunk, .chunk_bytes = 65};
	CHECK_EQ_INT(bl_join_series(j, 2, 64), 0);
	CHECK_EQ_INT(bl_join_frame(j, 3000, &big, emit, NULL), -EMSGSIZE);
	bl_join_free(j);
}

static void test_parse(void)
{
	const char *text =
	    "{\"series\": 7, \"kind\": \"frame\", \"frame\": 2, \"prog\": 2, \"t\": 123456789,"
	    " \"t_prog\": 123456790, \"dt\": -1, \"flags\": [\"off_time\", \"no_print\"],"
	    " \"sample\": {\"sample\": 3, \"puck\": 1, \"slot\": 4, \"barcode\": \"BL1001043\"},"
	    " \"print\": {\"run\": 2, \"label\": \"P3HT-a\", \"mode\": \"stage\", \"film_mm\": 50,"
	    " \"axis_mm\": 61.2, \"coated\": true, \"since_coat_s\": 1.000, \"flow_ul_min\": 60,"
	    " \"speed_mm_s\": 20, \"temp_c\": [60.1, 80.0], \"temp_at\": [1, 2]}}";
	cJSON *o = cJSON_Parse(text);
	struct bl_edge e;
	CHECK_EQ_INT(bl_edge_parse(o, &e), 0);
	CHECK(e.series == 7 && e.kind == BL_EDGE_FRAME && e.has_frame && e.frame == 2);
	CHECK(e.t == 123456789 && e.flags == (BL_EDGEF_OFF_TIME | BL_EDGEF_NO_PRINT));
	CHECK(e.has_sample && e.sample == 3 && e.puck == 1 && e.slot == 4 && !e.untagged);
	CHECK_STR(e.barcode, "BL1001043");
	CHECK(e.has_print && e.print.run == 2 && e.print.coated && e.print.nheaters == 2);
	CHECK_STR(e.print.label, "P3HT-a");
	CHECK_NEAR(e.print.axis_mm, 61.2, 1e-12);
	CHECK_NEAR(e.print.temp_c[0], 60.1, 1e-12);
	cJSON_Delete(o);
	o = cJSON_Parse("{\"series\": 7, \"kind\": \"missing\", \"prog\": 3, \"t\": 5, "
			"\"flags\": [], \"untagged\": true}");
	CHECK_EQ_INT(bl_edge_parse(o, &e), 0);
	CHECK(e.kind == BL_EDGE_MISSING && !e.has_frame && e.untagged);
	cJSON_Delete(o);
	const char *bad[] = {"{\"kind\": \"frame\", \"frame\": 1, \"t\": 1}",
			     "{\"series\": 1, \"kind\": \"odd\", \"frame\": 1, \"t\": 1}",
			     "{\"series\": 1, \"kind\": \"frame\", \"t\": 1}",
			     "{\"series\": -1, \"kind\": \"frame\", \"frame\": 1, \"t\": 1}", "[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = cJSON_Parse(bad[i]);
		CHECK_EQ_INT(bl_edge_parse(o, &e), -EBADMSG);
		cJSON_Delete(o);
	}
}

int main(void)
{
	test_before_after_never();
	test_full_and_series();
	test_parse();
	return CHECK_DONE();
}
