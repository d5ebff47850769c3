/* fw_main.c: beamloop-fw: loads hwdb and the inventory, reconciles the journal with the sensors,
 * then runs the sample cycle on a fixed-period loop commanded over CurveZMQ. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port/linux/fw_app.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void bl_fw_log(struct bl_fw_app *a, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	FILE *o = a->log ? a->log : stderr;
	fprintf(o, "[%10.6f] %s\n", (double)bl_fw_now() / 1e6, line);
	fflush(o);
}

static void net_log(void *ctx, const char *line)
{
	bl_fw_log(ctx, "net: %s", line);
}

static uint64_t net_now(void *ctx)
{
	(void)ctx;
	return bl_fw_now();
}

/* Line of byte offset `off` in `text` (1-based), for "file:line" errors. */
static int line_of(const char *text, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

/*
 * The inventory: a JSON array of {"puck": P, "slot": S, "barcode": "..."} (the agent's sample
 * database writes it; cJSON parses it). Every position must be a taught slot of hwdb.
 */
static int load_inventory(struct bl_fw_app *a, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "beamloop-fw: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	if (!cJSON_IsArray(root)) {
		size_t off = end ? (size_t)(end - text) : 0;
		fprintf(stderr, "beamloop-fw: %s:%d: %s\n", path, line_of(text, off),
			root ? "expected an array of positions" : "malformed JSON");
		cJSON_Delete(root);
		return -EINVAL;
	}
	int i = 0, rc = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, root)
	{
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "puck");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "slot");
		const char *b =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "barcode"));
		const char *why = NULL;
		if (i >= BL_SFSM_MAX_POS)
			why = "more than 32 positions";
		else if (!cJSON_IsNumber(p) || !cJSON_IsNumber(s) || !b || !*b ||
			 strlen(b) >= BL_SFSM_BARCODE_MAX)
			why =
			    "each position needs integer puck and slot and a barcode (1..31 chars)";
		else {
			bool taught = false;
			for (size_t k = 0; k < a->db->robot.npucks; k++)
				taught |= a->db->robot.pucks[k].id == p->valueint &&
					  s->valueint >= 1 &&
					  (size_t)s->valueint <= a->db->robot.pucks[k].nslots;
			if (!taught)
				why = "no such puck/slot among the robot's teach points";
		}
		if (why) {
			fprintf(stderr, "beamloop-fw: %s: position %d: %s\n", path, i + 1, why);
			rc = -EINVAL;
			break;
		}
		a->scfg.pos[i].puck = (uint8_t)p->valueint;
		a->scfg.pos[i].slot = (uint8_t)s->valueint;
		snprintf(a->scfg.pos[i].barcode, BL_SFSM_BARCODE_MAX, "%s", b);
		i++;
	}
	cJSON_Delete(root);
	if (!rc && i == 0) {
		fprintf(stderr, "beamloop-fw: %s: no positions\n", path);
		rc = -EINVAL;
	}
	a->scfg.count = (uint8_t)i;
	return rc;
}

static void configure(struct bl_fw_app *a)
{
	struct bl_sfsm_config *c = &a->scfg;
	const struct bl_fw_options *o = &a->opt;
	c->retries = (uint8_t)a->db->barcode.retries;
	c->exposure.frames = o->frames;
	c->exposure.count_time = (uint64_t)(o->count_time_s * 1e6);
	c->exposure.period = (uint64_t)(o->period_s * 1e6);
	c->exposure.lead = 200000; /* 200 ms: arm the box with room for its round trips */
	c->exposure.margin = 500000;
	c->timeout.robot = 120u * 1000000u;
	c->timeout.barcode = 10u * 1000000u;
	c->timeout.arm = c->timeout.disarm = 10u * 1000000u;
	c->timeout.trigger = 5u * 1000000u;
	c->agent_timeout = (uint64_t)(o->agent_timeout_s * 1e6);
}

/* Reads the sensors, reconciles with the journal; on success restores the FSM. */
static int reconcile(struct bl_fw_app *a, struct bl_fw_journal *j)
{
	struct bl_fw_journal_snapshot snap;
	struct bl_fw_sensors sens;
	int rc = bl_fw_journal_snapshot(j, &snap);
	if (rc)
		return rc;
	bl_fw_devices_sensors(a, &sens);
	rc = bl_fw_reconcile(&snap, &sens, &a->rec);
	if (rc)
		return rc;
	bl_fw_log(a, "reconcile: %s", a->rec.summary);
	if (!a->rec.motion_allowed) {
		for (int i = 0; i < a->rec.count; i++)
			if (a->rec.s[i].loc == BL_LOC_UNKNOWN)
				bl_fw_log(a, "  %s", a->rec.s[i].reason);
		a->blocked = true;
		return 0;
	}
	rc = bl_fw_journal_apply(j, &a->rec, bl_fw_now());
	if (rc)
		return rc;
	a->blocked = false;
	bl_sfsm_init(&a->sfsm, &a->scfg);
	for (int i = 0; i < a->scfg.count; i++) {
		const struct bl_fw_journal_sample *s = &snap.s[i];
		int loc = a->rec.s[i].loc;
		int st = bl_fw_reconcile_restore_state(s->state, s->measured);
		bl_sfsm_restore(&a->sfsm, i, st, s->measured, s->series, loc);
		if (loc != BL_LOC_SLOT) {
			bl_fw_log(a, "sample %d restored at %s: put back first", i,
				  bl_loc_name(loc));
			bl_fw_devices_adopt(a, i, loc);
		}
	}
	return 0;
}

/* While blocked, only status and the operator's resolve are served. */
static void blocked_handle(void *ctx, const struct bl_fw_request *rq)
{
	struct bl_fw_app *a = ctx;
	if (strcmp(rq->cmd, "resolve")) {
		bl_fw_cmd_handle(ctx, rq);
		return;
	}
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(rq->args, "sample");
	const char *l = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->args, "loc"));
	const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->args, "who"));
	int loc = !l			  ? -1
		  : !strcmp(l, "slot")	  ? BL_LOC_SLOT
		  : !strcmp(l, "gripper") ? BL_LOC_GRIPPER
		  : !strcmp(l, "stage")	  ? BL_LOC_STAGE
					  : -1;
	if (!cJSON_IsNumber(s) || s->valueint < 0 || s->valueint >= a->scfg.count || loc < 0) {
		bl_fw_net_reply_err(rq->net, &rq->to, EINVAL,
				    "resolve needs sample (a position index) and loc "
				    "(slot|gripper|stage)");
		return;
	}
	int rc = bl_fw_journal_resolve(a->robot.journal, s->valueint, loc, who ? who : "operator",
				       NULL, bl_fw_now());
	if (!rc)
		rc = reconcile(a, a->robot.journal);
	if (rc)
		bl_fw_net_reply_err(rq->net, &rq->to, rc, bl_fw_journal_error(a->robot.journal));
	else
		bl_fw_net_reply_ok(rq->net, &rq->to, bl_fw_status_json(a));
}

static void take_messages(struct bl_fw_app *a)
{
	struct bl_fw_msg m;
	while (bl_fw_inbox_take(&a->inbox, &m)) {
		struct bl_sfsm_event ev = {0};
		switch (m.kind) {
		case BL_FW_MSG_DONE:
			if (!m.req)
				break; /* a safe-state job: nobody waits for it */
			if (m.owner == BL_FW_OWNER_PRINT) {
				struct bl_pfsm_event pe = {.kind = BL_PFSM_EV_DONE,
							   .req = m.req,
							   .rc = m.rc,
							   .value = m.value,
							   .series = m.series};
				bl_fw_pstep(a, &pe);
				break;
			}
			ev.kind = BL_SFSM_EV_DONE;
			ev.req = m.req;
			ev.rc = m.rc;
			ev.series = m.series;
			ev.barcode = m.text[0] ? m.text : NULL;
			bl_fw_step(a, &ev);
			break;
		case BL_FW_MSG_ALARM: {
			bl_fw_log(a, "alarm from %s: %s", m.text, strerror(-m.rc));
			struct bl_pfsm_event pe = {
			    .kind = BL_PFSM_EV_ALARM, .dev = (int)m.series, .rc = m.rc};
			bl_fw_pstep(a, &pe);
			break;
		}
		case BL_FW_MSG_INTERLOCK:
			bl_fw_log(a, "interlock %s %s", m.text, m.active ? "ACTIVE" : "clear");
			ev.kind = BL_SFSM_EV_INTERLOCK;
			ev.interlock = m.interlock;
			ev.active = m.active;
			bl_fw_step(a, &ev);
			/* same numbers for the print cycle (door, beam, e-stop) */
			bl_fw_print_interlock(a, m.interlock, m.active);
			if (a->net) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", m.text);
				cJSON_AddBoolToObject(o, "active", m.active);
				bl_fw_net_publish(a->net, "interlock", o);
			}
			break;
		case BL_FW_MSG_EDGE: bl_fw_edge(a, m.t); break;
		case BL_FW_MSG_LOG: bl_fw_log(a, "%s (%s)", m.text, strerror(-m.rc)); break;
		default: break;
		}
	}
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: beamloop-fw --hwdb FILE --inventory FILE --journal FILE --key PREFIX "
	    "--allow DIR|FILE\n"
	    "                   [--cmd ENDPOINT] [--evt ENDPOINT] [--no-rt] [--period-us N]\n"
	    "                   [--agent-timeout S] [--frames N] [--count-time S] [--period S]\n"
	    "                   [--run-for S] [--beam-offset-mm MM] [--max-web-mm MM]\n"
	    "                   [--max-prime-ul UL]\n"
	    "       beamloop-fw --keygen PREFIX   (writes PREFIX.key and PREFIX.pub)\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct bl_fw_app app;
	struct bl_fw_app *a = &app;
	struct bl_fw_options *o = &a->opt;
	*o = (struct bl_fw_options){.rt = true,
				    .period_us = 1000,
				    .agent_timeout_s = 0,
				    .frames = 10,
				    .count_time_s = 0.05,
				    .period_s = 0.1,
				    .beam_offset_mm = 50,
				    .max_web_mm = 2000,
				    .max_prime_ul = 200};
	bl_fw_clock_init();
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(k, "--no-rt")) {
			o->rt = false;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(k, "--keygen")) {
			char pub[BL_FW_KEY_Z85_LEN + 1], err[256];
			int rc = bl_fw_keys_generate(v, pub, err, sizeof(err));
			if (rc) {
				fprintf(stderr, "beamloop-fw: %s\n", err);
				return 1;
			}
			printf("%s\n", pub);
			return 0;
		} else if (!strcmp(k, "--hwdb"))
			o->hwdb = v;
		else if (!strcmp(k, "--inventory"))
			o->inventory = v;
		else if (!strcmp(k, "--journal"))
			o->journal = v;
		else if (!strcmp(k, "--key"))
			o->key = v;
		else if (!strcmp(k, "--allow"))
			o->allow = v;
		else if (!strcmp(k, "--cmd"))
			o->cmd_endpoint = v;
		else if (!strcmp(k, "--evt"))
			o->evt_endpoint = v;
		else if (!strcmp(k, "--period-us"))
			o->period_us = atoi(v);
		else if (!strcmp(k, "--agent-timeout"))
			o->agent_timeout_s = atof(v);
		else if (!strcmp(k, "--frames"))
			o->frames = (uint32_t)atoi(v);
		else if (!strcmp(k, "--count-time"))
			o->count_time_s = atof(v);
		else if (!strcmp(k, "--period"))
			o->period_s = atof(v);
		else if (!strcmp(k, "--run-for"))
			o->run_for_s = atof(v);
		else if (!strcmp(k, "--beam-offset-mm"))
			o->beam_offset_mm = atof(v);
		else if (!strcmp(k, "--max-web-mm"))
			o->max_web_mm = atof(v);
		else if (!strcmp(k, "--max-prime-ul"))
			o->max_prime_ul = atof(v);
		else
			return usage();
	}
	if (!o->hwdb || !o->inventory || !o->journal || !o->key || !o->allow)
		return usage();
	if (o->period_us < 100 || o->period_us > 100000 || o->frames < 1 || o->count_time_s <= 0 ||
	    o->period_s < o->count_time_s) {
		fprintf(stderr, "beamloop-fw: period-us 100..100000, frames >= 1, 0 < count-time "
				"<= period\n");
		return 2;
	}
	struct bl_hwdb_errors errs;
	if (bl_hwdb_load(o->hwdb, &a->db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	if (load_inventory(a, o->inventory))
		return 1;
	configure(a);
	int rc = bl_sfsm_init(&a->sfsm, &a->scfg);
	if (rc) {
		fprintf(stderr, "beamloop-fw: bad cycle configuration (%s)\n", strerror(-rc));
		return 1;
	}
	char err[512], pub[BL_FW_KEY_Z85_LEN + 1], sec[BL_FW_KEY_Z85_LEN + 1];
	struct bl_fw_allowlist allow = {0};
	if (bl_fw_keys_load(o->key, pub, sec, err, sizeof(err)) ||
	    bl_fw_allowlist_load(&allow, o->allow, err, sizeof(err))) {
		fprintf(stderr, "beamloop-fw: %s\n", err);
		return 1;
	}
	rc = bl_fw_journal_open(o->journal, a->scfg.pos, a->scfg.count, NULL, &a->robot.journal,
				err, sizeof(err));
	if (rc) {
		fprintf(stderr, "beamloop-fw: journal %s: %s\n", o->journal, err);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	bl_fw_hal_bind(a);
	if ((rc = bl_fw_inbox_init(&a->inbox)) || (rc = bl_fw_devices_open(a)) ||
	    (rc = bl_fw_printer_open(a))) {
		fprintf(stderr, "beamloop-fw: devices: %s\n", strerror(-rc));
		return 1;
	}
	if ((rc = bl_fw_print_setup(a))) {
		fprintf(stderr, "beamloop-fw: bad print configuration (%s)\n", strerror(-rc));
		return 1;
	}
	struct bl_fw_net_config nc = {.cmd_endpoint = o->cmd_endpoint,
				      .evt_endpoint = o->evt_endpoint,
				      .secret_key = sec,
				      .allow = &allow,
				      .now = net_now,
				      .log = net_log,
				      .log_ctx = a};
	rc = bl_fw_net_open(&a->net, &nc);
	bl_fw_allowlist_free(&allow);
	if (rc) {
		fprintf(stderr, "beamloop-fw: zmq: %s\n", strerror(-rc));
		return 1;
	}
	/* The journal is used by this thread until the reconcile is done, then by the robot
	 * worker only. Workers were started by devices_open but get no journal job before. */
	rc = reconcile(a, a->robot.journal);
	if (rc) {
		bl_fw_log(a, "reconcile failed: %s (%s)", strerror(-rc),
			  bl_fw_journal_error(a->robot.journal));
		return 1;
	}
	bl_fw_rt_setup(&a->rt, o->rt, 50);
	if (a->rt.why[0])
		bl_fw_log(a, "warning: %s", a->rt.why);
	printf("ready cmd=%s evt=%s key=%s\n", bl_fw_net_cmd_endpoint(a->net),
	       bl_fw_net_evt_endpoint(a->net), bl_fw_net_public_key(a->net));
	fflush(stdout);
	a->last_state = -1;
	bl_fw_latency_reset(&a->lat);
	uint64_t period = (uint64_t)o->period_us * 1000u, next = bl_fw_mono_ns();
	uint64_t until = o->run_for_s > 0 ? next + (uint64_t)(o->run_for_s * 1e9) : UINT64_MAX;
	while (!stop_flag && bl_fw_mono_ns() < until) {
		next += period;
		if (a->blocked) {
			bl_fw_net_poll(a->net, blocked_handle, a);
		} else {
			take_messages(a);
			bl_fw_net_poll(a->net, bl_fw_cmd_handle, a);
			if (bl_sfsm_next(&a->sfsm) <= bl_fw_now())
				bl_fw_step(a, NULL);
			bl_fw_print_tick(a);
		}
		a->loops++;
		uint64_t t = bl_fw_mono_ns();
		if (t > next) {
			a->loop_overruns++;
			a->lat.overruns++;
			next = t; /* skip the missed periods; never run late work in a burst */
		}
		bl_fw_sleep_until(next);
		uint64_t woke = bl_fw_mono_ns();
		bl_fw_latency_add(&a->lat, woke > next ? woke - next : 0);
	}
	bl_fw_log(a, "stopping: %llu loops, %llu overruns", (unsigned long long)a->loops,
		  (unsigned long long)a->loop_overruns);
	bl_fw_printer_close(a);
	bl_fw_devices_close(a);
	bl_fw_net_close(a->net);
	bl_fw_journal_close(a->robot.journal);
	bl_fw_inbox_destroy(&a->inbox);
	bl_hwdb_free(a->db);
	return 0;
}
