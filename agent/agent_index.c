/* agent_index.c: the SQLite index (runs, samples, files): what was measured, where the file is,
 * its status and frame counts. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bl_agent_index.h"

struct bl_agent_index {
	sqlite3 *db;
	char err[256];
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS samples ("
    " id INTEGER PRIMARY KEY, barcode TEXT NOT NULL UNIQUE, sample INTEGER, puck INTEGER,"
    " slot INTEGER, first_seen TEXT NOT NULL DEFAULT (datetime('now')));"
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY, series INTEGER NOT NULL, kind TEXT NOT NULL,"
    " label TEXT NOT NULL, sample_id INTEGER REFERENCES samples(id), print_run INTEGER,"
    " status TEXT NOT NULL DEFAULT 'open',"
    " started TEXT NOT NULL DEFAULT (datetime('now')), ended TEXT);"
    "CREATE TABLE IF NOT EXISTS files ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
    " path TEXT NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT 'writing',"
    " frames INTEGER NOT NULL DEFAULT 0, untagged INTEGER NOT NULL DEFAULT 0,"
    " missing INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,"
    " created TEXT NOT NULL DEFAULT (datetime('now')), updated TEXT);"
    "CREATE INDEX IF NOT EXISTS runs_series ON runs(series);"
    "CREATE TABLE IF NOT EXISTS forwarding ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), queued INTEGER NOT NULL, forwarded INTEGER NOT NULL,"
    " spooled INTEGER NOT NULL, dropped INTEGER NOT NULL, updated TEXT);"
    "CREATE TABLE IF NOT EXISTS fwd_queue ("
    " seq INTEGER PRIMARY KEY, path TEXT NOT NULL, row INTEGER NOT NULL, tag TEXT NOT NULL);";

static int fail(struct bl_agent_index *x, const char *what)
{
	snprintf(x->err, sizeof(x->err), "%s: %s", what, sqlite3_errmsg(x->db));
	return -EIO;
}

int bl_agent_index_open(struct bl_agent_index **out, const char *path, char *err, size_t errsz)
{
	struct bl_agent_index *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	int rc = 0;
	if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		rc = fail(x, path);
	else if (sqlite3_busy_timeout(x->db, 2000) != SQLITE_OK ||
		 sqlite3_exec(x->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		rc = fail(x, path);
	if (rc) {
		snprintf(err, errsz, "%s", x->err);
		bl_agent_index_close(x);
		return rc;
	}
	*out = x;
	return 0;
}

void bl_agent_index_close(struct bl_agent_index *x)
{
	if (!x)
		return;
	sqlite3_close(x->db);
	free(x);
}

const char *bl_agent_index_error(const struct bl_agent_index *x)
{
	return x->err;
}

/* Prepares SQL, binds with BIND (may be NULL), steps once. */
static int exec1(struct bl_agent_index *x, const char *sql, sqlite3_stmt **keep)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(x, "prepare");
	*keep = st;
	return 0;
}

static int step_done(struct bl_agent_index *x, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(x, what);
	sqlite3_finalize(st);
	return r;
}

static int sample_upsert(struct bl_agent_index *x, const struct bl_edge *e, int64_t *id)
{
	sqlite3_stmt *st;
	int rc = exec1(x,
		       "INSERT INTO samples(barcode, sample, puck, slot) VALUES(?1, ?2, ?3, ?4) "
		       "ON CONFLICT(barcode) DO UPDATE SET sample=?2, puck=?3, slot=?4 "
		       "RETURNING id",
		       &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, e->barcode, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, e->sample);
	sqlite3_bind_int(st, 3, e->puck);
	sqlite3_bind_int(st, 4, e->slot);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = fail(x, "sample");
		sqlite3_finalize(st);
		return rc;
	}
	*id = sqlite3_column_int64(st, 0);
	return step_done(x, st, "sample");
}

int bl_agent_index_run_begin(struct bl_agent_index *x, uint64_t series, const struct bl_edge *first,
			     int64_t *run_id)
{
	int64_t sid = 0;
	bool smp = first && first->has_sample && first->barcode[0];
	if (smp) {
		int rc = sample_upsert(x, first, &sid);
		if (rc)
			return rc;
	}
	const char *kind = first && first->has_print ? "print" : smp ? "sample" : "unknown";
	const char *label = first && first->has_print ? first->print.label
			    : smp		      ? first->barcode
						      : "";
	sqlite3_stmt *st;
	int rc = exec1(x,
		       "INSERT INTO runs(series, kind, label, sample_id, print_run) "
		       "VALUES(?1, ?2, ?3, ?4, ?5)",
		       &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)series);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, label, -1, SQLITE_TRANSIENT);
	if (smp)
		sqlite3_bind_int64(st, 4, sid);
	if (first && first->has_print)
		sqlite3_bind_int(st, 5, first->print.run);
	rc = step_done(x, st, "run");
	if (!rc)
		*run_id = sqlite3_last_insert_rowid(x->db);
	return rc;
}

int bl_agent_index_run_end(struct bl_agent_index *x, int64_t run_id, const char *status)
{
	sqlite3_stmt *st;
	int rc = exec1(x, "UPDATE runs SET status=?1, ended=datetime('now') WHERE id=?2", &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, run_id);
	return step_done(x, st, "run end");
}

int bl_agent_index_file_begin(struct bl_agent_index *x, int64_t run_id, const char *path,
			      int64_t *file_id)
{
	sqlite3_stmt *st;
	int rc;
	/* A row already naming this path whose file is gone from disk (removed by hand since the
	 * agent wrote it): that row keeps its history under a marked path, so the new file gets a
	 * row of its own and is never left out of the index. A path whose file still exists is
	 * refused below (files are never overwritten). */
	if (access(path, F_OK) != 0) {
		rc = exec1(x,
			   "UPDATE files SET path = path || ' (removed; row ' || id || ')' "
			   "WHERE path = ?1",
			   &st);
		if (rc)
			return rc;
		sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
		if ((rc = step_done(x, st, "file removed")))
			return rc;
	}
	rc = exec1(x, "INSERT INTO files(run_id, path) VALUES(?1, ?2)", &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	rc = step_done(x, st, "file");
	if (!rc)
		*file_id = sqlite3_last_insert_rowid(x->db);
	return rc;
}

int bl_agent_index_file_update(struct bl_agent_index *x, int64_t file_id, const char *status,
			       const struct bl_index_file_counts *c)
{
	sqlite3_stmt *st;
	int rc = exec1(x,
		       "UPDATE files SET status=?1, frames=?2, untagged=?3, missing=?4, "
		       "rejected=?5, updated=datetime('now') WHERE id=?6",
		       &st);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->frames);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->untagged);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->missing);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->rejected);
	sqlite3_bind_int64(st, 6, file_id);
	return step_done(x, st, "file update");
}

int bl_agent_index_forwarding(struct bl_agent_index *x, const struct bl_index_forwarding *f)
{
	sqlite3_stmt *st;
	int rc = exec1(x,
		       "INSERT OR REPLACE INTO forwarding(id, queued, forwarded, spooled, dropped, "
		       "updated) VALUES(1, ?1, ?2, ?3, ?4, datetime('now'))",
		       &st);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)f->queued);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->forwarded);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)f->spooled);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)f->dropped);
	return step_done(x, st, "forwarding");
}

int bl_agent_index_queue_save(struct bl_agent_index *x, size_t n, const struct bl_index_queued *q)
{
	if (sqlite3_exec(x->db, "BEGIN; DELETE FROM fwd_queue;", NULL, NULL, NULL) != SQLITE_OK)
		return fail(x, "queue save");
	sqlite3_stmt *st = NULL;
	int rc = exec1(x, "INSERT INTO fwd_queue(seq, path, row, tag) VALUES(?1, ?2, ?3, ?4)", &st);
	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
		sqlite3_bind_text(st, 2, q[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)q[i].row);
		sqlite3_bind_text(st, 4, q[i].tag, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = fail(x, "queue save");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(x->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
		rc = fail(x, "queue save");
	return rc;
}

int bl_agent_index_queue_take(struct bl_agent_index *x,
			      int (*fn)(void *ctx, const struct bl_index_queued *q), void *ctx)
{
	sqlite3_stmt *st = NULL;
	int rc = exec1(x, "SELECT path, row, tag FROM fwd_queue ORDER BY seq", &st);
	int n = 0;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		struct bl_index_queued q = {(const char *)sqlite3_column_text(st, 0),
					    (uint64_t)sqlite3_column_int64(st, 1),
					    (const char *)sqlite3_column_text(st, 2)};
		if (q.path && q.tag && !fn(ctx, &q))
			n++;
	}
	sqlite3_finalize(st);
	if (!rc && sqlite3_exec(x->db, "DELETE FROM fwd_queue", NULL, NULL, NULL) != SQLITE_OK)
		rc = fail(x, "queue take");
	return rc ? rc : n;
}
