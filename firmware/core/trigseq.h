/* trigseq.h: the trigger sequencer: numbers each detector trigger edge of a series, checks it
 * against its programmed time and hands out the metadata latched at that instant. */
#ifndef BL_TRIGSEQ_H
#define BL_TRIGSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_errno.h"
#include "hal/bl_hal_print.h"
#include "print_fsm.h"
#include "sample_fsm.h"

/*
 * The trigger box itself is commanded by the cycles (the sample FSM's bl_hal_trigger_train(),
 * the print FSM's timed bl_hal_print_trigger() edges); the sequencer holds the *program* of
 * the active series (the edge times the box was told) and the sources of its metadata.
 * The port then feeds every edge the box reads back (already in controller ticks, in time
 * order) to bl_trigseq_edge(), and steps it at bl_trigseq_next(); without readback
 * (cfg.synthesize) the steps make the edges from the program instead, flagged as such.
 *
 * Frame numbers. The detector numbers its images by the trigger edges it received, so the
 * k-th edge of a series is frame k, whatever its time. Each edge is then matched with the
 * programmed edge within cfg.tolerance of it (`prog`); programmed edges no edge came for are
 * reported as MISSING records (once an edge later than them arrived, or at their time plus
 * tolerance plus cfg.latency), an edge near no programmed time is flagged OFF_TIME with prog
 * -1. Nothing is guessed: a frame whose number differs from its programmed index is flagged
 * SHIFTED, and the metadata is always latched at the edge's own time.
 */

#define BL_TRIGSEQ_MAX_LIST BL_PFSM_MAX_FRAMES /* programmed edges given as a list */
#define BL_EDGE_NO_FRAME    UINT32_MAX
#define BL_TRIGSEQ_NEVER    UINT64_MAX

struct bl_trigseq_config {
	uint64_t tolerance; /* |edge - programmed| <= this is on time (< half the edge spacing) */
	uint64_t latency;   /* readback: an edge reaches the port at most this long after it */
	bool synthesize;    /* no readback: edges are made at the programmed times */
};

/* What a record is. */
enum bl_edge_kind {
	BL_EDGE_FRAME = 1,   /* an edge: a detector frame */
	BL_EDGE_MISSING = 2, /* a programmed edge that did not come: no frame for it */
	BL_EDGE_CUT = 3, /* the series was stopped: programmed edges from prog on will not come */
};

/* Flags of a record (bits). */
enum bl_edge_flag {
	BL_EDGE_OFF_TIME = 1u << 0,  /* near no programmed edge (prog -1) */
	BL_EDGE_SHIFTED = 1u << 1,   /* frame != prog: an edge went missing or an extra one came */
	BL_EDGE_SYNTH = 1u << 2,     /* time made from the program, not read back */
	BL_EDGE_EXTRA = 1u << 3,     /* came after every programmed edge was used */
	BL_EDGE_NO_SAMPLE = 1u << 4, /* a sample FSM was given but had no metadata for that time */
	BL_EDGE_NO_PRINT = 1u << 5,  /* a print FSM was given but had no run */
};

/* One record, handed to bl_hal_trigseq_edge() (valid during the call). */
struct bl_edge_meta {
	uint32_t series;
	int kind;	 /* enum bl_edge_kind */
	unsigned flags;	 /* enum bl_edge_flag bits */
	uint32_t frame;	 /* detector frame: rank of the edge in the series; BL_EDGE_NO_FRAME */
	int32_t prog;	 /* programmed edge matched (0-based); -1 none */
	uint64_t t_edge; /* controller ticks of the edge (MISSING, CUT: its programmed time) */
	uint64_t t_prog; /* programmed time of prog (0 when none) */
	int64_t dt;	 /* t_edge - t_prog (0 when none) */
	uint64_t now;	 /* when the record was made */
	/* Latched at t_edge (FRAME, MISSING; never for CUT): */
	bool has_sample; /* sample: sample FSM's latch (puck, slot, barcode, its own frame guess) */
	struct bl_sfsm_latch sample;
	bool has_print; /* print: film position, time since coating, flow, speed, temperatures */
	struct bl_pfsm_latch print;
};

struct bl_trigseq_counters {
	uint32_t series;      /* programs accepted */
	uint64_t records;     /* records handed out */
	uint64_t edges;	      /* frames (edges received or synthesized) */
	uint64_t on_time;     /* edges matched with a programmed edge */
	uint64_t off_time;    /* edges near no programmed edge */
	uint64_t missing;     /* programmed edges that did not come */
	uint64_t extra;	      /* edges after the programmed ones */
	uint64_t synthesized; /* edges made from the program */
	uint64_t cut;	      /* programmed edges dropped by a stop */
	uint64_t refused;     /* edges refused: no series, out of order, synthesizing */
};

/* The sequencer. Fields are private. */
struct bl_trigseq {
	const struct bl_trigseq_config *cfg;
	bool active;
	uint32_t series;
	const struct bl_sfsm *sfsm; /* metadata sources of the series, NULL: none */
	const struct bl_pfsm *pfsm;
	bool train; /* program: train (start, period, count) or list (times) */
	uint64_t start, period;
	uint32_t count;
	uint64_t times[BL_TRIGSEQ_MAX_LIST];
	uint32_t next_prog; /* first programmed edge neither matched nor reported missing */
	uint32_t frames;    /* edges so far: the next frame number */
	uint64_t last_edge;
	bool in_call;
	struct bl_edge_meta rec;
	struct bl_trigseq_counters counters;
};

/* Checks cfg (-BL_EINVAL) and sets the sequencer up with no series. */
int bl_trigseq_init(struct bl_trigseq *ts, const struct bl_trigseq_config *cfg);

/*
 * Programs the series: `count` edges from `start` every `period` (a sample exposure), or the
 * list times[n] (a print; copied, n <= BL_TRIGSEQ_MAX_LIST). Metadata comes from `sf` and / or
 * `pf` (NULL: none). A series still open is closed first as by bl_trigseq_stop(). -BL_EINVAL
 * for no edges, times not increasing, or edges closer than 2 x tolerance (ambiguous).
 */
int bl_trigseq_program_train(struct bl_trigseq *ts, uint64_t now, uint32_t series, uint64_t start,
			     uint64_t period, uint32_t count, const struct bl_sfsm *sf,
			     const struct bl_pfsm *pf);
int bl_trigseq_program_list(struct bl_trigseq *ts, uint64_t now, uint32_t series,
			    const uint64_t *times, uint32_t n, const struct bl_sfsm *sf,
			    const struct bl_pfsm *pf);

/* Programs the print FSM's current run (bl_pfsm_run()): its series and frame times.
 * -BL_ENOENT when it has none. */
int bl_trigseq_program_print(struct bl_trigseq *ts, uint64_t now, const struct bl_pfsm *pf,
			     const struct bl_sfsm *sf);

/*
 * An edge read back at controller time `edge` (reported at `now`). Hands out the MISSING
 * records it proves and its own record. Returns 0, -BL_ENOENT with no series programmed,
 * -BL_EINVAL for an edge earlier than the previous one or while synthesizing, -BL_EBUSY when
 * re-entered from bl_hal_trigseq_edge().
 */
int bl_trigseq_edge(struct bl_trigseq *ts, uint64_t now, uint64_t edge);

/* Time: reports programmed edges overdue past tolerance + latency as MISSING, or, when
 * synthesizing, makes the edges due. Returns the number of records handed out. */
int bl_trigseq_step(struct bl_trigseq *ts, uint64_t now);

/* The series was stopped (hold, abort, fault): the programmed edges still to come are handed
 * out as one CUT record; the series closes. Returns 0, -BL_ENOENT when none is open. */
int bl_trigseq_stop(struct bl_trigseq *ts, uint64_t now);

/* When bl_trigseq_step() has something to do next, BL_TRIGSEQ_NEVER when nothing. */
uint64_t bl_trigseq_next(const struct bl_trigseq *ts);

/* Every programmed edge has been matched or reported missing (or none is programmed). */
bool bl_trigseq_done(const struct bl_trigseq *ts);

const struct bl_trigseq_counters *bl_trigseq_counters(const struct bl_trigseq *ts);

/* Names for logs and traces. */
const char *bl_edge_kind_name(int kind);

#endif
