/* cmd_pump.c: `beamloop pump ...`: drive the syringe pump named in hwdb by hand (limits still
 * apply). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_hwdb.h"
#include "bl_pump.h"
#include "cli.h"

static int usage(void)
{
	fprintf(stderr, "usage: beamloop pump [--hwdb FILE] [--device NAME] [--port PATH] VERB\n"
			"  VERB: status | dia MM | rate UL_MIN | volume UL | infuse | withdraw |\n"
			"        run | stop | send COMMAND\n");
	return 2;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs the queue until TICKET's event (or a link failure); prints errors. */
int bl_cli_pump_wait(struct bl_pump *p, int ticket, struct bl_pump_event *ev)
{
	if (ticket < 0) {
		fprintf(stderr, "beamloop: pump: %s\n",
			ticket == -ERANGE ? "outside the limits in hwdb" : strerror(-ticket));
		return ticket;
	}
	uint64_t limit = now_ms() + 10000;
	while (now_ms() < limit) {
		int rc = bl_pump_poll(p, now_ms(), ev);
		if (rc == 1 && ev->ticket == ticket) {
			if (ev->rc == -EIO)
				fprintf(stderr, "beamloop: pump: '%s': alarm %c\n", ev->cmd,
					(char)bl_pump_status(p)->alarm);
			else if (ev->rc)
				fprintf(stderr, "beamloop: pump: '%s': %s\n", ev->cmd,
					strerror(-ev->rc));
			return ev->rc;
		}
		struct pollfd f = {.fd = bl_pump_fd(p), .events = POLLIN};
		poll(&f, f.fd >= 0 ? 1 : 0, 5);
	}
	fprintf(stderr, "beamloop: pump not reachable\n");
	return -ENOTCONN;
}

int bl_cli_pump(int argc, char **argv)
{
	struct bl_cli_dev o;
	if (bl_cli_dev_options(argc, argv, &o))
		return usage();
	const char *verb = o.args[0], *arg = o.nargs > 1 ? o.args[1] : NULL;
	if (bl_cli_dev_load(&o, "pump"))
		return 1;
	struct bl_hwdb *db = o.db;
	struct bl_pump *p;
	if (bl_pump_new(&o.dev, db->printer.pump[0] ? &db->printer : NULL, &p)) {
		fprintf(stderr, "beamloop: '%s' is not a syringe pump\n", o.dev.name);
		bl_cli_dev_free(&o);
		return 1;
	}
	int ticket;
	double v = arg ? atof(arg) : 0;
	if (!strcmp(verb, "status"))
		ticket = bl_pump_query(p);
	else if (!strcmp(verb, "dia") && arg)
		ticket = bl_pump_set_diameter(p, v);
	else if (!strcmp(verb, "rate") && arg)
		ticket = bl_pump_set_rate(p, v);
	else if (!strcmp(verb, "volume") && arg)
		ticket = bl_pump_set_volume(p, v);
	else if (!strcmp(verb, "infuse") || !strcmp(verb, "withdraw"))
		ticket =
		    bl_pump_set_direction(p, verb[0] == 'i' ? BL_PUMP_INFUSE : BL_PUMP_WITHDRAW);
	else if (!strcmp(verb, "run"))
		ticket = bl_pump_run(p);
	else if (!strcmp(verb, "stop"))
		ticket = bl_pump_stop(p);
	else if (!strcmp(verb, "send") && arg)
		ticket = bl_pump_command(p, arg);
	else {
		bl_pump_free(p);
		bl_hwdb_free(db);
		return usage();
	}
	struct bl_pump_event ev;
	int rc = bl_cli_pump_wait(p, ticket, &ev);
	if (rc == 0) {
		const struct bl_pump_status *st = bl_pump_status(p);
		if (!strcmp(verb, "status"))
			printf("state %c infused %.3f uL withdrawn %.3f uL\n", st->state,
			       st->infused_ul, st->withdrawn_ul);
		else if (ev.reply.data[0])
			printf("ok %c %s\n", st->state, ev.reply.data);
		else
			printf("ok %c\n", st->state);
	}
	bl_pump_free(p);
	bl_cli_dev_free(&o);
	return rc ? 1 : 0;
}
