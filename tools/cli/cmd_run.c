/* cmd_run.c: `beamloop run`: the main job on the virtual beamline (today: describe it, check every
 * device through its driver, then run the controller's sample and print cycles). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_hwdb.h"
#include "cli.h"
#include "run_live.h"
#include "vbl.h"

struct bl_hwdb *bl_cli_load_hwdb(const char *file)
{
	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	if (bl_hwdb_load(file, &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return NULL;
	}
	return db;
}

const char *bl_cli_default_hwdb(void)
{
	const char *env = getenv("BEAMLOOP_HWDB");
	return env && *env ? env : BL_SOURCE_DIR "/hwdb/beamlines/sim.yaml";
}

static void endpoint(const struct bl_hwdb_transport *t, char *buf, size_t cap)
{
	switch (t->kind) {
	case BL_TR_TCP:
	case BL_TR_HTTP:
	case BL_TR_MODBUS_TCP:
		snprintf(buf, cap, "%s %s:%d", bl_hwdb_transport_name(t->kind), t->host, t->port);
		break;
	case BL_TR_SERIAL:
	case BL_TR_MODBUS_RTU:
		snprintf(buf, cap, "%s %s @%d", bl_hwdb_transport_name(t->kind), t->device,
			 t->baud);
		break;
	case BL_TR_USB: snprintf(buf, cap, "usb %04x:%04x", t->usb_vid, t->usb_pid); break;
	}
}

/* Scattering vector magnitude (nm^-1) at detector pixel (px, py) for geometry G. */
static double q_at(const struct bl_hwdb_geometry *g, const struct bl_hwdb_detector_model *m,
		   double px, double py)
{
	double dx = (px - g->beam_center_x_px) * m->pixel_x_um * 1e-3;
	double dy = (py - g->beam_center_y_px) * m->pixel_y_um * 1e-3;
	double two_theta = atan2(hypot(dx, dy), g->distance_mm);
	return 4.0 * M_PI * sin(two_theta / 2.0) / g->wavelength_nm;
}

static void describe_detector(const struct bl_hwdb *db)
{
	const struct bl_hwdb_geometry *g = &db->detector;
	const struct bl_hwdb_device *d = bl_hwdb_device(db, g->device);
	const struct bl_hwdb_detector_model *m = &d->model->detector;
	double w = m->width - 1, h = m->height - 1;
	double corners[4] = {q_at(g, m, 0, 0), q_at(g, m, w, 0), q_at(g, m, 0, h),
			     q_at(g, m, w, h)};
	double qmax = 0;
	for (int i = 0; i < 4; i++)
		qmax = fmax(qmax, corners[i]);
	/* the closest detector edge bounds the full azimuthal ring */
	double cx = fmin(fmax(g->beam_center_x_px, 0), w),
	       cy = fmin(fmax(g->beam_center_y_px, 0), h);
	double edge = fmin(fmin(q_at(g, m, 0, cy), q_at(g, m, w, cy)),
			   fmin(q_at(g, m, cx, 0), q_at(g, m, cx, h)));
	printf(
	    "detector: %s (%s), %d x %d px of %g x %g um at %g mm, wavelength %g nm (%.2f keV)\n",
	    d->name, d->model->name, m->width, m->height, m->pixel_x_um, m->pixel_y_um,
	    g->distance_mm, g->wavelength_nm, 1.23984198 / g->wavelength_nm);
	printf("          beam centre (%g, %g) px, incidence %g deg: q up to %.3f nm^-1 at the "
	       "corners, full rings up to %.3f nm^-1\n",
	       g->beam_center_x_px, g->beam_center_y_px, g->incidence_deg, qmax, edge);
}

/* Only beamlines whose every endpoint is on this machine get a virtual beamline: never start a
 * simulator in place of (or talk to) a real device. */
static bool local_only(const struct bl_hwdb *db)
{
	for (size_t i = 0; i < db->ndevices; i++) {
		const struct bl_hwdb_transport *t = &db->devices[i].transport;
		bool net =
		    t->kind == BL_TR_TCP || t->kind == BL_TR_HTTP || t->kind == BL_TR_MODBUS_TCP;
		bool ser = t->kind == BL_TR_SERIAL || t->kind == BL_TR_MODBUS_RTU;
		if (net && strcmp(t->host, "127.0.0.1") && strcmp(t->host, "localhost"))
			return false;
		if (ser && strncmp(t->device, "/tmp/", 5))
			return false;
		if (t->kind == BL_TR_USB)
			return false;
	}
	return true;
}

int bl_cli_run(int argc, char **argv)
{
	const char *file = bl_cli_default_hwdb();
	bool live = true;
	int samples = 1000; /* every good sample of every puck */
	const char *out = "beamloop-out";
	int prints = 20;
	unsigned long seed = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hwdb") && i + 1 < argc) {
			file = argv[++i];
		} else if (!strcmp(argv[i], "--describe")) {
			live = false;
		} else if (!strcmp(argv[i], "--samples") && i + 1 < argc) {
			samples = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--prints") && i + 1 < argc) {
			prints = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: beamloop run [--hwdb FILE] [--describe] [--samples "
					"N] [--out DIR]\n");
			return 2;
		}
	}
	struct bl_hwdb *db = bl_cli_load_hwdb(file);
	if (!db)
		return 1;
	printf("beamloop: virtual beamline '%s' from %s\n  %s\n\n", db->beamline, file,
	       db->description);
	printf("%-12s %-9s %-22s %-16s %s\n", "device", "class", "model", "protocol", "endpoint");
	for (size_t i = 0; i < db->ndevices; i++) {
		const struct bl_hwdb_device *d = &db->devices[i];
		char ep[300];
		endpoint(&d->transport, ep, sizeof(ep));
		printf("%-12s %-9s %-22s %-16s %s\n", d->name, bl_hwdb_class_name(d->model->cls),
		       d->model->name, bl_hwdb_protocol_name(d->model->protocol), ep);
	}
	putchar('\n');
	if (db->robot.device[0]) {
		size_t slots = 0;
		for (size_t i = 0; i < db->robot.npucks; i++)
			slots += db->robot.pucks[i].nslots;
		printf("sample changer: robot '%s', %zu pucks, %zu sample positions, safe poses:",
		       db->robot.device, db->robot.npucks, slots);
		for (size_t i = 0; i < db->robot.nsafe; i++)
			printf(" %s", db->robot.safe_poses[i].name);
		printf("\n");
	}
	if (db->detector.device[0])
		describe_detector(db);
	if (db->printer.pump[0]) {
		const struct bl_hwdb_printer *p = &db->printer;
		printf("printer: flow %g-%g ul/min, coating %g-%g mm/s, web %g-%g mm/s, %g-%g C on "
		       "%zu "
		       "heaters\n",
		       p->flow_ul_min.min, p->flow_ul_min.max, p->coat_speed_mm_s.min,
		       p->coat_speed_mm_s.max, p->web_speed_mm_s.min, p->web_speed_mm_s.max,
		       p->temperature_c.min, p->temperature_c.max, p->nheaters);
	}
	printf("interlocks:");
	for (size_t i = 0; i < db->ninterlocks; i++)
		printf(" %s(%s in %d -> %s)", db->interlocks[i].name, db->interlocks[i].source,
		       db->interlocks[i].input,
		       db->interlocks[i].action == BL_IL_SUSPEND ? "suspend" : "abort");
	printf("%s\n", db->ninterlocks ? "" : " none");
	int status = 0;
	if (live && local_only(db)) {
		static struct bl_vbl vbl;
		int n = bl_vbl_start(&vbl, db, BL_BINARY_DIR, 50.0);
		printf("\nvirtual beamline: %d simulators started\n", n);
		for (size_t i = 0; i < vbl.n; i++)
			printf("  %-12s %s\n", vbl.sims[i].dev->name, vbl.sims[i].note);
		status = bl_run_live(db, &vbl) ? 1 : 0;
		printf("%s\n", status ? "live check: FAILED"
				      : "live check: all simulated devices answered");
		if (!status && samples > 0)
			status = bl_run_fw(db, &vbl, samples, out, prints, seed) ? 1 : 0;
		bl_vbl_stop(&vbl);
	} else if (live) {
		printf("\n(real device endpoints: no simulators started; use --describe to skip "
		       "this note)\n");
	}
	bl_hwdb_free(db);
	return status;
}
