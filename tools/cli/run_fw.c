/* run_fw.c: `beamloop run`'s controller part: beamloop-fw on the virtual beamline, commanded
 * over CurveZMQ as the agent does: puck scan, sample cycles, one print, edges counted. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "barcode_proto.h"
#include "fw_site.h"
#include "proto/fw_client.h"
#include <gsl/gsl_rng.h>

#include "bl_bo.h"
#include "film_morph.h"
#include "run_agent.h"
#include "run_db.h"
#include "run_live.h"

struct run_fw {
	struct bl_fw_site site;
	pid_t pid;
	struct bl_fw_client *c;
	int tagged_sample, tagged_print, untagged, missing;
	int measured, quarantined, mismatched;
	FILE *log; /* OUT/campaign.jsonl: one line per sample and per print (the report reads it) */
	const char *out;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static const char *str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(x) ? x->valueint : -1;
}

/* Events since the last call: progress lines for notes, counts for edges. */
static void drain(struct run_fw *r, int wait_ms)
{
	struct bl_fw_event ev = {0};
	while (bl_fw_client_event(r->c, wait_ms, &ev) == 0) {
		wait_ms = 0;
		const cJSON *d = ev.data;
		if (!d) {
			bl_fw_event_clear(&ev);
			continue;
		}
		if (!strcmp(ev.topic, "edge") && !strcmp(str(d, "kind"), "frame")) {
			bool s = cJSON_GetObjectItemCaseSensitive(d, "sample") != NULL;
			bool p = cJSON_GetObjectItemCaseSensitive(d, "print") != NULL;
			r->tagged_sample += s;
			r->tagged_print += p;
			r->untagged += !s && !p;
		} else if (!strcmp(ev.topic, "edge") && !strcmp(str(d, "kind"), "missing")) {
			r->missing++;
		} else if (!strcmp(ev.topic, "note")) {
			const char *w = str(d, "what");
			if (!strcmp(w, "measured") || !strcmp(w, "quarantine") ||
			    !strcmp(w, "mismatch"))
				printf("  sample %d: %s\n", num(d, "sample"), w);
			else if (!strncmp(w, "print_", 6) || !strcmp(w, "heated") ||
				 !strcmp(w, "primed"))
				printf("  print: %s\n", w);
		}
		bl_fw_event_clear(&ev);
	}
}

/* Polls status until both cycles are idle with nothing queued or pending; the last status. */
static cJSON *wait_idle(struct run_fw *r, int limit_s)
{
	for (int i = 0; i < limit_s * 10; i++) {
		drain(r, 100);
		cJSON *st = NULL;
		if (bl_fw_client_call(r->c, "status", NULL, 3000, &st) == 0 &&
		    !strcmp(str(st, "state"), "idle") && num(st, "queued") == 0 &&
		    !strcmp(str(cJSON_GetObjectItemCaseSensitive(st, "print"), "state"), "idle")) {
			bool pending = false;
			const cJSON *p;
			cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "positions"))
			    pending |= !strcmp(str(p, "scan"), "pending");
			if (!pending)
				return st;
		}
		cJSON_Delete(st);
	}
	return NULL;
}

static int call(struct run_fw *r, const char *cmd, const char *args)
{
	cJSON *rep = NULL;
	int rc = bl_fw_client_call_json(r->c, cmd, args, 5000, &rep);
	if (rc)
		fprintf(stderr, "beamloop: %s %s: %s\n", cmd, args ? args : "",
			rep ? str(rep, "message") : strerror(-rc));
	cJSON_Delete(rep);
	return rc;
}

/* The film of sample I of the virtual beamline's pucks: a recipe drawn for it (as if printed
 * earlier), its noise-free morphology. */
static void sample_film(int i, struct bl_film_morph *m)
{
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(g, 1000u + (unsigned long)i);
	struct bl_film_recipe rec = {5 * pow(40, gsl_rng_uniform(g)),
				     0.5 * pow(20, gsl_rng_uniform(g)),
				     40 + 90 * gsl_rng_uniform(g)};
	gsl_rng_free(g);
	bl_film_morph(&rec, NULL, m);
}

/*
 * Campaign 1: the puck is scanned (unreadable and mislabelled samples are never mounted), then
 * each good sample is measured in turn; with the agent, the virtual beamline puts that sample's
 * film under the beam (GISAXS frames from the forward model) and the sample's fitted spacing and
 * orientation are shown beside the truth.
 */
static int campaign(struct run_fw *r, const struct bl_hwdb *db, struct bl_vbl *v, int nsamples,
		    struct bl_run_agent *ra)
{
	int puck = db->robot.pucks[0].id;
	char args[1024];
	cJSON *st = NULL;
	for (size_t pi = 0; pi < db->robot.npucks; pi++) {
		int id = db->robot.pucks[pi].id;
		snprintf(args, sizeof(args), "{\"puck\": %d}", id);
		if (id == puck)
			printf("  scanning puck %d (slot 5 unreadable, slot 10 carries another "
			       "sample's label)\n",
			       id);
		else
			printf("  scanning puck %d\n", id);
		if (call(r, "scan", args))
			return -EIO;
		cJSON_Delete(st);
		if (!(st = wait_idle(r, 300)))
			return -ETIMEDOUT;
	}
	int good[64], ngood = 0;
	char codes[64][32];
	double fit_d[64], fit_o[64];
	for (int k = 0; k < 64; k++)
		fit_d[k] = fit_o[k] = NAN;
	const cJSON *p;
	int i = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "positions"))
	{
		const char *scan = str(p, "scan");
		if (strcmp(scan, "ok")) {
			printf("  slot %d (%s): %s, never mounted\n", num(p, "slot"),
			       str(p, "barcode"), scan);
		} else if (ngood < nsamples && ngood < 64) {
			snprintf(codes[ngood], sizeof(codes[ngood]), "%s", str(p, "barcode"));
			good[ngood++] = i;
		}
		i++;
	}
	cJSON_Delete(st);
	printf("  %d samples to measure, one after the other\n", ngood);
	for (int k = 0; k < ngood; k++) {
		struct bl_film_morph m;
		char cmd[160], ans[128];
		if (ra) {
			sample_film(good[k], &m);
			snprintf(cmd, sizeof(cmd), "film gisaxs %.4f %.3f %.4f", m.film.spacing_nm,
				 m.film.corr_len_nm, m.film.rg_nm);
			bl_vbl_ctl(v, db->detector.device, cmd, ans, sizeof(ans));
			bl_run_agent_watch(ra, codes[k]);
		}
		snprintf(args, sizeof(args), "{\"sample\": %d}", good[k]);
		if (call(r, "queue", args))
			continue;
		if (!(st = wait_idle(r, 600)))
			return -ETIMEDOUT;
		cJSON_Delete(st);
		double d = 0, de = 0, o = 0;
		int n = 0;
		for (int t = 0; ra && t < 500 && (n = bl_run_agent_watched(ra, &d, &de, &o)) < 5;
		     t++)
			drain(r, 20);
		if (n)
			printf("  sample %d (%s): fitted spacing %.2f +- %.2f nm, orientation %.2f "
			       "from %d frames (truth %.2f nm, %.2f)\n",
			       good[k], codes[k], d, de, o, n, m.spacing_nm, m.orientation);
		if (n && good[k] < 64)
			fit_d[good[k]] = d, fit_o[good[k]] = o;
		if (n && r->log)
			fprintf(r->log,
				"{\"kind\": \"sample\", \"sample\": %d, \"barcode\": \"%s\", "
				"\"spacing\": %.4f, \"spacing_err\": %.4f, \"orientation\": %.4f, "
				"\"frames\": %d, \"truth_spacing\": %.4f, \"truth_orientation\": "
				"%.4f}\n",
				good[k], codes[k], d, de, o, n, m.spacing_nm, m.orientation);
	}
	if (ra)
		bl_vbl_ctl(v, db->detector.device, "film 20 100 5", (char[128]){0}, 128);
	if (!(st = wait_idle(r, 600)))
		return -ETIMEDOUT;
	struct bl_run_db_counts dc;
	if (r->out && !bl_run_db_outcomes(r->out, st, fit_d, fit_o, 64, &dc))
		printf("  run database: %d samples listed: %d measured, %d quarantined, %d "
		       "mismatched, %d faulted (table sample_outcomes)\n",
		       dc.listed, dc.done, dc.quarantined, dc.mismatch, dc.fault);
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(st, "counters");
	r->measured = num(k, "measured");
	r->quarantined = num(k, "quarantined");
	r->mismatched = num(k, "mismatched");
	cJSON_Delete(st);
	char sp[64] = "";
	for (size_t h = 0; h < db->printer.nheaters; h++)
		snprintf(sp + strlen(sp), sizeof(sp) - strlen(sp), "%s%d", h ? ", " : "",
			 40 + 10 * (int)h);
	if (db->printer.pump[0]) {
		snprintf(args, sizeof(args),
			 "{\"label\": \"demo-stage\", \"mode\": \"stage\", \"flow_ul_min\": 60, "
			 "\"speed_mm_s\": 20, \"gap_um\": 120, \"length_mm\": 80, \"setpoint_c\": "
			 "[%s], \"prime_volume_ul\": 4, \"delays_s\": [0.2, 0.5, 1.0, 2.0], "
			 "\"count_time_s\": 0.05}",
			 sp);
		printf("  printing one stage film (60 ul/min, 20 mm/s, 4 frames while it dries)\n");
		if (call(r, "print", args))
			return -EIO;
		if (!(st = wait_idle(r, 300)))
			return -ETIMEDOUT;
		cJSON_Delete(st);
	}
	drain(r, 700); /* the last edge records */
	return 0;
}

/* The fitted model of the watched print LABEL rendered on the detector (the forward model the
 * fit used, cylinders on a radial paracrystal, via the simulated detector's renderer), as
 * OUT/model.f32 (height x width float32, expected counts of a 0.05 s frame) and model.json. */
static void save_model(const char *out, const struct bl_hwdb *db, struct bl_run_agent *ra,
		       const char *label)
{
	const struct bl_hwdb_device *dev = bl_hwdb_device(db, db->detector.device);
	if (!dev || !dev->model)
		return;
	const struct bl_hwdb_detector_model *dm = &dev->model->detector;
	const struct bl_hwdb_geometry *g = &db->detector;
	struct bl_det_geom geo = {.width = dm->width,
				  .height = dm->height,
				  .pixel_mm = dm->pixel_x_um * 1e-3,
				  .beam_x = g->beam_center_x_px,
				  .beam_y = g->beam_center_y_px,
				  .distance_mm = g->distance_mm,
				  .wavelength_nm = g->wavelength_nm,
				  .incidence_deg = g->incidence_deg};
	double d = 0, de = 0, o = 0, xi = 0, rad = 0;
	if (!bl_run_agent_watched(ra, &d, &de, &o))
		return;
	bl_run_agent_watched_shape(ra, &xi, &rad);
	struct bl_det_film f = bl_det_film_default();
	f.spacing_nm = d, f.corr_len_nm = xi, f.rg_nm = rad * sqrt(7.0 / 12.0);
	f.model = BL_DET_GISAXS;
	size_t n = (size_t)geo.width * (size_t)geo.height;
	float *mu = malloc(n * sizeof(float));
	struct bl_det_gs *gs = NULL;
	char path[PATH_MAX];
	if (mu && !bl_det_gs_new(&gs, &geo) && !bl_det_render_gisaxs(gs, &geo, &f, 0.05, mu)) {
		snprintf(path, sizeof(path), "%s/model.f32", out);
		FILE *fp = fopen(path, "wb");
		if (fp) {
			fwrite(mu, sizeof(float), n, fp);
			fclose(fp);
		}
		snprintf(path, sizeof(path), "%s/model.json", out);
		if ((fp = fopen(path, "w"))) {
			fprintf(fp,
				"{\"label\": \"%s\", \"width\": %d, \"height\": %d, "
				"\"spacing_nm\": %.4f, \"corr_len_nm\": %.3f, \"radius_nm\": "
				"%.4f, \"count_time_s\": 0.05}\n",
				label, geo.width, geo.height, d, xi, rad);
			fclose(fp);
		}
	}
	bl_det_gs_free(gs);
	free(mu);
}

/*
 * Campaign 2, closed-loop printing: the decision policy (Gaussian-process Bayesian optimisation,
 * bl_bo.h) proposes a recipe within hwdb's printer limits; the controller prints it (stage mode,
 * timed commands, 3 frames while it dries); the virtual beamline's physics gives the film its
 * morphology (film_morph.h, with run-to-run noise, never seen by the policy) and the simulated
 * detector renders it with the GISAXS forward model; beamloop-analyze fits every frame; the
 * print's mean fitted spacing and orientation go back to the policy. Until the target (32 nm
 * +- 2 %, orientation > 0.7) is met or BUDGET prints are spent.
 */
static int closed_loop(struct run_fw *r, const struct bl_hwdb *db, struct bl_vbl *v,
		       struct bl_run_agent *ra, int budget, unsigned long seed)
{
	const struct bl_hwdb_printer *pr = &db->printer;
	/* the heaters cannot cool below the room (22 C in the simulator): 30 C at the least */
	double lo[3] = {pr->flow_ul_min.min, pr->coat_speed_mm_s.min,
			pr->temperature_c.min > 30 ? pr->temperature_c.min : 30};
	double hi[3] = {pr->flow_ul_min.max, pr->coat_speed_mm_s.max, pr->temperature_c.max};
	struct bl_bo_config c = {
	    .n_out = 2,
	    .log_scale = {1, 1, 0},
	    .target = BL_FILM_TARGET_SPACING_NM,
	    .target_tol = BL_FILM_TARGET_TOL * BL_FILM_TARGET_SPACING_NM,
	    .n_constraints = 1,
	    .constraints = {{1, BL_FILM_TARGET_ORIENTATION, INFINITY}},
	    .warp = {BL_BO_WARP_NONE, BL_BO_WARP_LOGIT},
	    .seed = seed,
	};
	struct bl_bo *bo = bl_bo_new(3, lo, hi, budget, &c);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!bo || !rng) {
		bl_bo_free(bo);
		gsl_rng_free(rng);
		return -ENOMEM;
	}
	gsl_rng_set(rng, seed);
	printf("\nprinting campaign: target spacing %.0f nm +- %.0f %%, orientation order > %.1f; "
	       "budget %d prints (seed %lu)\n",
	       BL_FILM_TARGET_SPACING_NM, 100 * BL_FILM_TARGET_TOL, BL_FILM_TARGET_ORIENTATION,
	       budget, seed);
	int rc = 0, reached = 0;
	for (int i = 1; i <= budget && !rc && !reached; i++) {
		double x[3], y[2] = {0, 0}, err = 0;
		struct bl_bo_info info;
		if ((rc = bl_bo_propose(bo, x, &info)))
			break;
		/* the world: this print's film, rendered by the detector while it dries */
		struct bl_film_morph m;
		struct bl_film_recipe rec = {x[0], x[1], x[2]};
		char cmd[160], ans[128], label[32], args[1024];
		bl_film_morph(&rec, rng, &m);
		snprintf(cmd, sizeof(cmd), "film gisaxs %.4f %.3f %.4f", m.film.spacing_nm,
			 m.film.corr_len_nm, m.film.rg_nm);
		bl_vbl_ctl(v, db->detector.device, cmd, ans, sizeof(ans));
		snprintf(label, sizeof(label), "loop-%d", i);
		bl_run_agent_watch(ra, label);
		double len = 4; /* mm: the beam sits 3 mm from the die here (--beam-offset-mm) */
		snprintf(args, sizeof(args),
			 "{\"label\": \"%s\", \"mode\": \"stage\", \"flow_ul_min\": %.3f, "
			 "\"speed_mm_s\": %.4f, \"gap_um\": 120, \"length_mm\": %.3f, "
			 "\"setpoint_c\": [%.2f, 40], \"prime_volume_ul\": 2, \"delays_s\": [0.2, "
			 "0.4, 0.6], \"count_time_s\": 0.05}",
			 label, x[0], x[1], len, x[2]);
		if ((rc = call(r, "print", args)))
			break;
		cJSON *st = wait_idle(r, 600);
		if (!st) {
			rc = -ETIMEDOUT;
			break;
		}
		cJSON_Delete(st);
		int n = 0;
		for (int k = 0; k < 500 && (n = bl_run_agent_watched(ra, &y[0], &err, &y[1])) < 3;
		     k++)
			drain(r, 20);
		if (!n) {
			printf("  print %d: no fitted frame came back; not used\n", i);
			continue;
		}
		bl_bo_add(bo, x, y, NULL);
		reached = fabs(y[0] / BL_FILM_TARGET_SPACING_NM - 1) <= BL_FILM_TARGET_TOL &&
			  y[1] > BL_FILM_TARGET_ORIENTATION;
		printf(
		    "  print %d/%d: flow %6.1f ul/min, speed %5.2f mm/s, %5.1f C -> spacing %.2f "
		    "+- %.2f nm, orientation %.2f (%d frames fitted; predicted %.1f +- %.1f "
		    "nm)%s\n",
		    i, budget, x[0], x[1], x[2], y[0], err, y[1], n, info.mean[0], info.sd[0],
		    reached ? "  TARGET MET" : "");
		fflush(stdout);
		if (r->log)
			fprintf(
			    r->log,
			    "{\"kind\": \"print\", \"print\": %d, \"label\": \"%s\", "
			    "\"flow_ul_min\": "
			    "%.4f, \"speed_mm_s\": %.5f, \"temp_c\": %.3f, \"spacing\": %.4f, "
			    "\"spacing_err\": %.4f, \"orientation\": %.4f, \"pred_spacing\": %.4f, "
			    "\"pred_spacing_sd\": %.4f, \"pred_orientation\": %.4f, "
			    "\"pred_orientation_sd\": %.4f, \"from_design\": %d, "
			    "\"truth_spacing\": %.4f, \"truth_orientation\": %.4f, \"reached\": "
			    "%d}\n",
			    i, label, x[0], x[1], x[2], y[0], err, y[1], info.mean[0], info.sd[0],
			    info.mean[1], info.sd[1], info.from_design, m.spacing_nm, m.orientation,
			    reached);
		if (reached && r->out)
			save_model(r->out, db, ra, label);
		if (reached)
			printf("printing campaign: target reached after %d prints (budget %d); "
			       "truth of "
			       "that print: spacing %.2f nm, orientation %.2f\n",
			       i, budget, m.spacing_nm, m.orientation);
	}
	if (!rc && !reached)
		printf("printing campaign: target NOT reached within %d prints\n", budget);
	bl_vbl_ctl(v, db->detector.device, "film 20 100 5", (char[128]){0}, 128);
	bl_bo_free(bo);
	gsl_rng_free(rng);
	return rc ? rc : reached ? 0 : -EAGAIN;
}

int bl_run_fw(const struct bl_hwdb *db, struct bl_vbl *v, int nsamples, const char *out_dir,
	      int prints, unsigned long seed)
{
	struct run_fw r = {0};
	static struct bl_run_agent ra;
	bool agent = false;
	char err[256], ready[512];
	printf("\ncontroller: beamloop-fw on the virtual beamline, commanded over CurveZMQ\n");
	if (!db->robot.npucks)
		return -EINVAL;
	const struct bl_hwdb_puck *pk = &db->robot.pucks[0];
	int ids[8], slots[8], np = db->robot.npucks < 8 ? (int)db->robot.npucks : 8;
	for (int k = 0; k < np; k++)
		ids[k] = db->robot.pucks[k].id, slots[k] = (int)db->robot.pucks[k].nslots;
	/* every puck of the beamline is loaded, each sample in the inventory */
	if (bl_fw_site_create(&r.site, "beamloop-run", db->file, pk->id, (int)pk->nslots, err,
			      sizeof(err)) ||
	    bl_fw_site_inventory(&r.site, ids, slots, np, err, sizeof(err))) {
		fprintf(stderr, "beamloop: %s\n", err);
		return -EIO;
	}
	char ans[128], code[16], cmd[64];
	int puck = db->robot.pucks[0].id;
	snprintf(cmd, sizeof(cmd), "label %d 5 none", puck);
	bl_vbl_ctl(v, db->barcode.device, cmd, ans, sizeof(ans));
	bl_bc_sim_code(puck, 3, code);
	snprintf(cmd, sizeof(cmd), "label %d 10 %s", puck, code);
	bl_vbl_ctl(v, db->barcode.device, cmd, ans, sizeof(ans));
	/* the virtual beamline's beam sits 3 mm from the die (hwdb has no beam offset yet), so a
	 * closed-loop print at 0.5 mm/s takes seconds, not minutes */
	static const char *const opts[] = {"--frames", "5",   "--count-time",	  "0.05",
					   "--period", "0.1", "--beam-offset-mm", "3",
					   NULL};
	r.pid = bl_fw_site_start(&r.site, BL_BINARY_DIR "/firmware/beamloop-fw", opts, ready,
				 sizeof(ready));
	int rc = r.pid < 0 ? (int)r.pid : 0;
	if (!rc) {
		printf("  beamloop-fw up: %s\n", ready);
		struct bl_fw_client_config cc = {.server_key = r.site.fw_pub,
						 .public_key = r.site.ag_pub,
						 .secret_key = r.site.ag_sec};
		rc = bl_fw_client_open(&r.c, &cc);
		/* the data path: the agent tags frames with the same key the campaign uses */
		if (!rc && out_dir && !(rc = bl_run_agent_start(&ra, db, out_dir, &cc))) {
			agent = true;
			char lp[PATH_MAX];
			snprintf(lp, sizeof(lp), "%s/campaign.jsonl", out_dir);
			r.out = out_dir;
			if ((r.log = fopen(lp, "w")))
				setvbuf(r.log, NULL, _IOLBF, 0);
		}
	}
	if (!rc) {
		bl_fw_client_subscribe(r.c, "note");
		bl_fw_client_subscribe(r.c, "edge");
		sleep_ms(300); /* the subscriptions reach the controller */
		rc = campaign(&r, db, v, nsamples, agent ? &ra : NULL);
		if (!rc && agent && prints > 0 && db->printer.pump[0])
			rc = closed_loop(&r, db, v, &ra, prints, seed);
	}
	bl_fw_client_close(r.c);
	if (r.log)
		fclose(r.log);
	int arc =
	    agent ? bl_run_agent_finish(&ra, r.tagged_sample + r.tagged_print + r.untagged) : 0;
	bl_fw_site_stop(r.pid, SIGTERM);
	if (rc && rc != -EAGAIN) /* EAGAIN: printing target missed, said above */
		printf("controller: FAILED (%s; log in %s)\n", strerror(-rc), r.site.log);
	else
		printf(
		    "controller: %d samples measured, %d quarantined (unreadable), %d mismatched "
		    "(wrong label, never measured); frames tagged: %d with their sample, %d with "
		    "the printer state, %d untagged, %d missing\n",
		    r.measured, r.quarantined, r.mismatched, r.tagged_sample, r.tagged_print,
		    r.untagged, r.missing);
	if (agent && !arc) { /* the report folder (tools/report/report.py, python3-matplotlib) */
		char rep[PATH_MAX + 256];
		setenv("HDF5_PLUGIN_PATH", BL_BSHUF_PLUGIN_DIR, 0);
		fflush(stdout); /* the report's line comes after ours */
		snprintf(rep, sizeof(rep), "/usr/bin/python3 '%s/tools/report/report.py' '%s'",
			 BL_SOURCE_DIR, out_dir);
		if (system(rep))
			printf("report: FAILED (%s)\n", rep);
	}
	if (!rc && bl_fw_site_remove(&r.site))
		fprintf(stderr, "beamloop: could not remove %s\n", r.site.dir);
	return rc ? rc : arc;
}
