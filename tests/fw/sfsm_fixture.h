/* sfsm_fixture.h: the sample-cycle tests' shared inventory, timings and world set-up. */
#ifndef BL_SFSM_FIXTURE_H
#define BL_SFSM_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "core/sample_fsm.h"
#include "core/sched.h"
#include "port/sim/sim_sfsm.h"

#define MS(x)  ((uint64_t)(x)*1000u)
#define SEC(x) ((uint64_t)(x)*BL_TICKS_PER_SEC)

/* n positions (count n, filled up to BL_SFSM_MAX_POS): puck 1 slots 1..16, then puck 2; labels
 * BL-P<puck>-S<slot>. */
static inline void fixture_config(struct bl_sfsm_config *c, int n)
{
	memset(c, 0, sizeof(*c));
	c->count = (uint8_t)n;
	for (int i = 0; i < n && i < BL_SFSM_MAX_POS; i++) {
		c->pos[i].puck = (uint8_t)(1 + i / 16);
		c->pos[i].slot = (uint8_t)(1 + i % 16);
		snprintf(c->pos[i].barcode, sizeof(c->pos[i].barcode), "BL-P%u-S%02u",
			 c->pos[i].puck, c->pos[i].slot);
	}
	c->retries = 2;
	c->exposure.frames = 10;
	c->exposure.period = MS(100);
	c->exposure.count_time = MS(90);
	c->exposure.lead = MS(150);
	c->exposure.margin = MS(50);
	c->timeout.robot = SEC(30);
	c->timeout.barcode = SEC(2);
	c->timeout.arm = SEC(2);
	c->timeout.trigger = SEC(1);
	c->timeout.disarm = SEC(2);
}

/* Robot moves of seconds, reader and detector of tenths, trigger box of milliseconds. */
static const struct bl_sim_sfsm_delays fixture_delays = {
    .pick = SEC(4),
    .reader = MS(1500),
    .place = SEC(3),
    .ret = SEC(5),
    .park = SEC(2),
    .barcode = MS(300),
    .arm = MS(200),
    .disarm = MS(100),
    .trigger = MS(10),
    .trig_stop = MS(10),
    .readout = MS(20),
};

static inline void fixture_world(struct bl_sim_sfsm *w, struct bl_sfsm *f,
				 const struct bl_sfsm_config *c, char *trace, size_t cap)
{
	int rc = bl_sfsm_init(f, c);
	if (rc)
		fprintf(stderr, "bl_sfsm_init: %d\n", rc);
	bl_sim_sfsm_init(w, f, c, &fixture_delays, trace, cap);
}

/* Advances the world 1 ms at a time until the FSM is in `state` (at most `limit` ticks on). */
static inline bool run_to_state(struct bl_sim_sfsm *w, int state, uint64_t limit)
{
	uint64_t end = w->now + limit;
	while (bl_sfsm_state(w->fsm) != state) {
		if (w->now >= end || bl_sim_sfsm_run(w, w->now + MS(1)) < 0)
			return false;
	}
	return true;
}

/* The world saw nothing impossible and the FSM's beliefs always matched it. */
static inline bool world_clean(const struct bl_sim_sfsm *w)
{
	if (w->physical_errors || w->loc_errors || w->event_errors) {
		fprintf(stderr, "world: %d physical, %d location, %d event errors; first: %s\n",
			w->physical_errors, w->loc_errors, w->event_errors, w->first_error);
		return false;
	}
	return true;
}

#endif
