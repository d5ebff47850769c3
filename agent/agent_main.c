/* agent_main.c: beamloop-agent: ingest the detector stream, tag frames with the controller's
 * trigger edges, write NeXus files and the SQLite index, until SIGINT/SIGTERM. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bl_agent.h"
#include "bl_hwdb.h"
#include "proto/fw_keys.h"

static atomic_bool stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: beamloop-agent --hwdb FILE --out DIR [--device NAME] [--stream ENDPOINT]\n"
	    "         [--index PATH] [--wait-ms N] [--slots N] [--forward ENDPOINT]\n"
	    "         [--fw-evt ENDPOINT --server-key FILE|Z85 --key PREFIX]\n"
	    "  --hwdb FILE        beamline description (detector geometry, stream endpoint)\n"
	    "  --out DIR          NeXus files go to DIR/YYYYMMDD/, the index to DIR/index.sqlite\n"
	    "  --device NAME      the detector device (default: the hwdb detector's)\n"
	    "  --stream ENDPOINT  detector stream (default: the device's `stream`)\n"
	    "  --wait-ms N        how long a frame waits for its edge record (default 2000)\n"
	    "  --slots N          frames that may wait at once (default 64)\n"
	    "  --forward ENDPOINT analysis workers connect here (ZMQ ROUTER, credit)\n"
	    "  --fw-evt ENDPOINT  the controller's event endpoint (default %s); with\n"
	    "                     --server-key and --key; without them frames are untagged\n",
	    BL_FW_EVT_ENDPOINT);
	return 2;
}

/* The controller's public key: Z85 text, a key file, or PREFIX with PREFIX.pub. */
static int server_key(const char *arg, char z85[BL_FW_KEY_Z85_LEN + 1])
{
	uint8_t bin[32];
	char err[512], path[4096];
	struct stat st;
	if (stat(arg, &st) && bl_fw_key_decode(arg, bin)) {
		memcpy(z85, arg, BL_FW_KEY_Z85_LEN + 1);
		return 0;
	}
	snprintf(path, sizeof(path), "%s.pub", arg);
	if (!bl_fw_keys_load_one(stat(arg, &st) ? path : arg, z85, err, sizeof(err)))
		return 0;
	fprintf(stderr, "beamloop-agent: --server-key: %s\n", err);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *out = NULL, *device = NULL, *stream = NULL, *index = NULL;
	const char *evt = NULL, *skey = NULL, *key = NULL, *forward = NULL;
	long wait_ms = 2000, slots = 64;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return usage();
		if (!strcmp(a, "--hwdb"))
			hwdb = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--device"))
			device = v;
		else if (!strcmp(a, "--stream"))
			stream = v;
		else if (!strcmp(a, "--index"))
			index = v;
		else if (!strcmp(a, "--wait-ms"))
			wait_ms = strtol(v, NULL, 10);
		else if (!strcmp(a, "--slots"))
			slots = strtol(v, NULL, 10);
		else if (!strcmp(a, "--forward"))
			forward = v;
		else if (!strcmp(a, "--fw-evt"))
			evt = v;
		else if (!strcmp(a, "--server-key"))
			skey = v;
		else if (!strcmp(a, "--key"))
			key = v;
		else
			return usage();
		i++;
	}
	if (!hwdb || !out || wait_ms < 0 || slots < 1 || slots > 65536 || (!skey != !key))
		return usage();
	struct bl_hwdb *db = NULL;
	struct bl_hwdb_errors errs = {0};
	if (bl_hwdb_load(hwdb, &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 2;
	}
	struct bl_agent_config cfg = {.out_dir = out,
				      .index_path = index,
				      .wait_us = (uint64_t)wait_ms * 1000,
				      .slots = (unsigned)slots,
				      .forward = forward,
				      .geom = {.incidence_deg = NAN}};
	char err[512];
	int rc = bl_agent_geometry_from_hwdb(db, device, &cfg.geom, &stream, err, sizeof(err));
	if (rc)
		fprintf(stderr, "beamloop-agent: %s\n", err);
	char srv[BL_FW_KEY_Z85_LEN + 1], pub[BL_FW_KEY_Z85_LEN + 1], sec[BL_FW_KEY_Z85_LEN + 1];
	struct bl_fw_client_config fw = {
	    .event_endpoint = evt, .server_key = srv, .public_key = pub, .secret_key = sec};
	if (!rc && skey) {
		rc = server_key(skey, srv);
		if (!rc && (rc = bl_fw_keys_load(key, pub, sec, err, sizeof(err))))
			fprintf(stderr, "beamloop-agent: --key: %s\n", err);
		cfg.fw = &fw;
	}
	cfg.stream = stream;
	struct bl_agent *agent = NULL;
	if (!rc && (!stream || !*stream)) {
		fprintf(stderr, "beamloop-agent: no detector stream endpoint (hwdb or --stream)\n");
		rc = -EINVAL;
	}
	if (!rc && (rc = bl_agent_new(&agent, &cfg, err, sizeof(err))))
		fprintf(stderr, "beamloop-agent: %s\n", err);
	if (rc) {
		bl_hwdb_free(db);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "beamloop-agent: stream %s, %s, files in %s\n", stream,
		cfg.fw ? "tagging from the controller" : "no controller: frames untagged", out);
	rc = bl_agent_run(agent, &stop);
	struct bl_agent_counters c;
	bl_agent_counters(agent, &c);
	fprintf(stderr,
		"beamloop-agent: %llu frames written (%llu tagged, %llu untagged), %llu missing, "
		"%llu rejected, %llu refused, %llu files; forwarded %llu, spooled %llu, "
		"left %llu, dropped %llu\n",
		(unsigned long long)c.frames_written, (unsigned long long)c.join.tagged,
		(unsigned long long)c.join.untagged, (unsigned long long)c.stream.missing,
		(unsigned long long)c.stream.rejected, (unsigned long long)c.frames_refused,
		(unsigned long long)c.files_opened, (unsigned long long)c.fwd_forwarded,
		(unsigned long long)c.fwd_spooled, (unsigned long long)c.fwd_queued,
		(unsigned long long)c.fwd_dropped);
	bl_agent_free(agent);
	bl_hwdb_free(db);
	return rc ? 1 : 0;
}
