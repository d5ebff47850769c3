/* cmd_detector.c: `beamloop detector ...`: the SIMPLON detector by hand, and a short series read
 * from its stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_detector.h"
#include "bl_dstream.h"
#include "bl_hwdb.h"
#include "cli.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: beamloop detector [--hwdb FILE] [--port N] [--stream ENDPOINT] VERB\n"
		"  status | get KEY | set KEY VALUE | arm | trigger | disarm | abort |\n"
		"  series N   (internal triggers: arm, trigger, read N frames from the stream, "
		"disarm)\n");
	return 2;
}

/* Arms an internal-trigger series of N frames and prints each frame as the stream brings it. */
static int series(struct bl_det *d, const char *endpoint, int n)
{
	struct bl_dstream *ds;
	int rc = bl_dstream_new(&ds);
	if (rc)
		return rc;
	uint64_t id = 0;
	if (!(rc = bl_dstream_connect(ds, endpoint)) &&
	    !(rc = bl_det_set_string(d, "trigger_mode", "ints")) &&
	    !(rc = bl_det_set_number(d, "nimages", n)) &&
	    !(rc = bl_det_set_number(d, "ntrigger", 1)) && !(rc = bl_det_arm(d, &id)))
		rc = bl_det_trigger(d, 0);
	int frames = 0;
	struct bl_dstream_event ev;
	while (!rc) {
		int got = bl_dstream_poll(ds, 5000, &ev);
		if (got <= 0) {
			rc = got ? got : -ETIMEDOUT;
			break;
		}
		if (ev.kind == BL_DS_FRAME && ev.series == id) {
			const uint8_t *px = ev.pixels;
			uint64_t sum = 0;
			size_t np = ev.pixel_bytes / (size_t)ev.type;
			for (size_t i = 0; i < np; i++)
				sum += ev.type == BL_DTYPE_UINT32
					   ? ((const uint32_t *)(const void *)px)[i]
					   : ((const uint16_t *)(const void *)px)[i];
			printf(
			    "frame %llu: %dx%d %s %s, %zu bytes on the wire, md5 %s, %llu counts\n",
			    (unsigned long long)ev.frame, ev.width, ev.height,
			    bl_dtype_name(ev.type), bl_denc_name(ev.encoding), ev.encoded_bytes,
			    ev.hash_checked ? "ok" : "absent", (unsigned long long)sum);
			frames++;
		} else if (ev.kind == BL_DS_REJECT) {
			printf("rejected: %s\n", ev.error);
		} else if (ev.kind == BL_DS_END && ev.series == id) {
			printf("series %llu ended: %llu frames, %llu missing\n",
			       (unsigned long long)id, (unsigned long long)ev.frames,
			       (unsigned long long)ev.missing);
			break;
		}
	}
	if (!rc)
		rc = bl_det_disarm(d);
	bl_dstream_free(ds);
	return rc ? rc : (frames == n ? 0 : -EIO);
}

int bl_cli_detector(int argc, char **argv)
{
	struct bl_cli_dev o;
	if (bl_cli_dev_options(argc, argv, &o))
		return usage();
	const char *verb = o.args[0];
	int nargs = o.nargs - 1;
	char **a = o.args + 1;
	if (bl_cli_dev_load(&o, "detector"))
		return 1;
	struct bl_hwdb_device dev = o.dev;
	struct bl_det *d = NULL;
	int rc = bl_det_new(&dev, &d);
	if (rc) {
		fprintf(stderr, "beamloop: '%s' is not a SIMPLON detector\n", dev.name);
		bl_cli_dev_free(&o);
		return 1;
	}
	char buf[256];
	uint64_t id;
	enum bl_det_state st;
	if (!strcmp(verb, "status")) {
		if (!(rc = bl_det_state(d, &st)))
			printf("state %s\n", bl_det_state_name(st));
	} else if (!strcmp(verb, "get") && nargs == 1) {
		if (!(rc = bl_det_get_string(d, a[0], buf, sizeof(buf))))
			printf("%s = %s\n", a[0], buf);
		else if (rc == -EBADMSG) {
			double v;
			if (!(rc = bl_det_get_number(d, a[0], &v)))
				printf("%s = %g\n", a[0], v);
		}
	} else if (!strcmp(verb, "set") && nargs == 2) {
		char *end;
		double v = strtod(a[1], &end);
		rc = *end ? bl_det_set_string(d, a[0], a[1]) : bl_det_set_number(d, a[0], v);
		if (!rc)
			printf("%s = %s\n", a[0], a[1]);
	} else if (!strcmp(verb, "arm")) {
		if (!(rc = bl_det_arm(d, &id)))
			printf("armed: series %llu\n", (unsigned long long)id);
	} else if (!strcmp(verb, "trigger")) {
		rc = bl_det_trigger(d, 0);
	} else if (!strcmp(verb, "disarm")) {
		rc = bl_det_disarm(d);
	} else if (!strcmp(verb, "abort")) {
		rc = bl_det_abort(d);
	} else if (!strcmp(verb, "series") && nargs == 1 && atoi(a[0]) > 0) {
		rc = series(d, dev.stream, atoi(a[0]));
	} else {
		bl_det_free(d);
		bl_cli_dev_free(&o);
		return usage();
	}
	if (rc)
		fprintf(stderr, "beamloop: detector %s: %s\n", verb,
			bl_det_error(d)[0] ? bl_det_error(d) : strerror(-rc));
	bl_det_free(d);
	bl_cli_dev_free(&o);
	return rc ? 1 : 0;
}
