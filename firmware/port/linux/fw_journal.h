/* fw_journal.h: the controller's crash-safe sample-location journal (SQLite, WAL, fsync per move).
 */
#ifndef BL_FW_JOURNAL_H
#define BL_FW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sample_fsm.h"

/*
 * One SQLite file per controller (hwdb names it; the CLI opens the same file). What it holds:
 * the inventory (position index, puck, slot, barcode, optional name), per position its last
 * proven location, its unresolved move, its state (enum bl_sfsm_pos_state), whether a complete
 * series was taken and which; every robot move that carries a sample (intent and outcome, wall
 * time and controller time); the operator's statements; an event log.
 *
 * Durability. journal_mode=WAL, synchronous=FULL: every write that guards a sample (intent,
 * outcome, position state, resolve, reconcile, inventory) is one transaction whose COMMIT has
 * fsync'd the WAL before the call returns. Notes (bl_fw_journal_note) are committed with
 * synchronous=NORMAL (no fsync of their own; a power cut may lose the last notes, never a
 * location): the connection switches to NORMAL for that one transaction and back to FULL.
 *
 * A move is "unresolved" from its intent until its location is known: it has no outcome yet
 * (the controller stopped during it) or its outcome was BL_LOC_UNKNOWN (the move failed or was
 * cut). It is resolved by a later outcome with a known location (the FSM's reset carrying the
 * operator's word), by bl_fw_journal_resolve() (operator) or bl_fw_journal_apply() (sensors).
 * While any move is unresolved, or any sample is out of its slot, an intent for another sample
 * is refused: at most one sample is ever out of its slot.
 *
 * Threads: a handle is used by one thread at a time (the port's journal worker). Another
 * process (the CLI) may open the same file; busy_timeout makes writers wait for each other.
 * A write blocks for one fsync (about a millisecond): never call it on the real-time path.
 * An intent that fails (any negative return) means the move must not start.
 *
 * Errors: negative errno; the handle keeps a one-line message with SQLite's own text
 * (bl_fw_journal_error()) for the caller to log once. -EBUSY: the file is locked by another
 * writer past busy_timeout (or a move is unresolved, for an intent); -EIO: an I/O error;
 * -ENOSPC: disk full; -EUCLEAN: the file is corrupt or not a SQLite database (open runs
 * PRAGMA quick_check); -EINVAL: bad argument or not a beamloop journal; -ENOTSUP: written by a
 * newer schema; -EEXIST: the file was written for another inventory; -ENOENT: no such move;
 * -EALREADY: the move already has its outcome; -EROFS, -EACCES: file permissions.
 */

#define BL_FW_JOURNAL_SCHEMA 1		/* PRAGMA user_version */
#define BL_FW_JOURNAL_APP_ID 0x424c4a31 /* PRAGMA application_id: "BLJ1" */

struct bl_fw_journal;
struct bl_fw_reconcile;

/* bl_fw_journal_open() flags. */
enum bl_fw_journal_flags {
	/*
	 * The file holds another inventory (a position's puck, slot or barcode changed, or the
	 * count): adopt the new one, but only while every sample is journaled home (in its slot,
	 * no unresolved move); else -EBUSY. Positions whose label or place changed start over
	 * (idle, not measured); unchanged ones keep their state. The change is logged as an event.
	 */
	BL_FW_JOURNAL_ADOPT = 1u << 0,
};

struct bl_fw_journal_opts {
	unsigned flags;		  /* enum bl_fw_journal_flags */
	int busy_timeout_ms;	  /* 0: 5000 */
	const char *const *names; /* NULL, or one optional sample name per position (NULL: none) */
};
/* Names are stored when a position is created or adopted; they are not part of the
 * inventory's identity (puck, slot, barcode) and are not compared at open. */

/* events.what codes the journal writes itself (beside enum bl_sfsm_note_what). */
enum bl_fw_journal_event {
	BL_FW_EV_RECONCILE = 100, /* value: samples not proven; text: the reconcile summary */
	BL_FW_EV_UNPROVEN = 101,  /* value: the sample; text: its reason line */
	BL_FW_EV_ADOPT = 102,	  /* value: positions that changed */
};

/* What the journal says about one position. */
struct bl_fw_journal_sample {
	uint8_t puck, slot;
	char barcode[BL_SFSM_BARCODE_MAX];
	uint8_t loc;	   /* enum bl_loc: last proven location (slot, gripper, stage) */
	int64_t move_id;   /* the unresolved move, 0 when none */
	uint8_t move_from; /* its from and to (enum bl_loc), BL_LOC_NONE when none */
	uint8_t move_to;
	uint8_t move_at; /* BL_LOC_NONE: no outcome yet; BL_LOC_UNKNOWN: failed/cut (move_rc) */
	int move_rc;
	uint8_t state;	  /* enum bl_sfsm_pos_state */
	uint8_t measured; /* a complete series was taken: never measure again */
	uint32_t series;  /* that series */
};

/* The whole journal at one instant (one read transaction). */
struct bl_fw_journal_snapshot {
	uint8_t count; /* positions, 1..BL_SFSM_MAX_POS */
	struct bl_fw_journal_sample s[BL_SFSM_MAX_POS];
	int64_t last_move_id; /* 0 when no move was ever journaled */
};

/*
 * Opens (creating when missing) the journal at path for the inventory inv[0..n) (n 1..32,
 * puck/slot distinct, barcodes non-empty) and checks it: SQLite file, this application,
 * schema version, quick_check, same inventory (see BL_FW_JOURNAL_ADOPT). opts may be NULL.
 * On failure *out is NULL and err (errlen bytes, may be NULL) says why.
 */
int bl_fw_journal_open(const char *path, const struct bl_sfsm_position *inv, size_t n,
		       const struct bl_fw_journal_opts *opts, struct bl_fw_journal **out, char *err,
		       size_t errlen);

/* Closes the handle (NULL is fine). Every acknowledged write is already on disk. */
void bl_fw_journal_close(struct bl_fw_journal *j);

/* The last error's message (SQLite's text included); "" when none. */
const char *bl_fw_journal_error(const struct bl_fw_journal *j);

/*
 * Before a robot move that carries sample: it goes from `from` to `to` (slot, gripper or
 * stage; from must be the journaled location). Durable on return; *move_id (may be NULL) is
 * what bl_fw_journal_outcome() takes. -EBUSY: a move is unresolved or another sample is out
 * of its slot; -EINVAL: bad sample or locations, from not where the journal has the sample.
 */
int bl_fw_journal_intent(struct bl_fw_journal *j, int sample, int from, int to, uint64_t now,
			 int64_t *move_id);

/*
 * After it: the sample is `at` (BL_LOC_UNKNOWN when the move failed or was cut: it stays
 * unresolved), rc the robot's rc. A known location on a move journaled unknown resolves it.
 * -EALREADY when the move's location is already known, -ENOENT no such move.
 */
int bl_fw_journal_outcome(struct bl_fw_journal *j, int64_t move_id, int at, int rc, uint64_t now);

/* The position's state (enum bl_sfsm_pos_state), measured flag and its complete series. */
int bl_fw_journal_pos_state(struct bl_fw_journal *j, int sample, int state, bool measured,
			    uint32_t series, uint64_t now);

/* A line for the event log (sample -1: none; what: enum bl_sfsm_note_what or another code;
 * text may be NULL). Not fsync'd by itself (see above). */
int bl_fw_journal_note(struct bl_fw_journal *j, int sample, int what, int64_t value,
		       const char *text, uint64_t now);

/*
 * The operator's statement: sample is at loc (slot, gripper or stage). Recorded with who and
 * note (may be NULL); an unresolved move of the sample is closed at loc, "operator: who".
 */
int bl_fw_journal_resolve(struct bl_fw_journal *j, int sample, int loc, const char *who,
			  const char *note, uint64_t now);

/* Reads everything bl_fw_reconcile() and bl_sfsm_restore() need. */
int bl_fw_journal_snapshot(struct bl_fw_journal *j, struct bl_fw_journal_snapshot *snap);

/*
 * Records a reconcile result: every unresolved move it proved is closed at the proven
 * location, "sensors: gripper empty, stage occupied"; samples it could not prove and global
 * blocks go to the event log. -ESTALE (nothing written) when the journal changed since the
 * snapshot the result was computed from (a move closed or another one opened).
 */
int bl_fw_journal_apply(struct bl_fw_journal *j, const struct bl_fw_reconcile *r, uint64_t now);

/*
 * Reads "PRAGMA name" on the journal's own connection (journal_mode, synchronous, ...) as
 * text into buf, for diagnostics and tests. name: letters and '_' only (-EINVAL).
 */
int bl_fw_journal_pragma(struct bl_fw_journal *j, const char *name, char *buf, size_t size);

/* PRAGMA integrity_check: 0, or -EUCLEAN with its first complaint in the error message. */
int bl_fw_journal_integrity(struct bl_fw_journal *j);

#endif
