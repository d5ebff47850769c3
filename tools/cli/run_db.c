/* run_db.c: the run database's sample outcomes: every position of the campaign with its state
 * as the controller reports it, where it is, how often it was measured and its fitted film, in
 * table `sample_outcomes` of the agent's index (OUT/index.sqlite). */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "run_db.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS sample_outcomes ("
    " sample INTEGER PRIMARY KEY, puck INTEGER NOT NULL, slot INTEGER NOT NULL,"
    " barcode TEXT NOT NULL, outcome TEXT NOT NULL, location TEXT NOT NULL,"
    " measured INTEGER NOT NULL, series INTEGER, barcode_read TEXT,"
    " spacing_nm REAL, orientation REAL, updated TEXT NOT NULL DEFAULT (datetime('now')));";

static const char *s_of(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? s : "";
}

static double n_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int bl_run_db_outcomes(const char *out_dir, const cJSON *status, const double *spacing,
		       const double *orientation, int n, struct bl_run_db_counts *c)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/index.sqlite", out_dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc =
	    sqlite3_open(path, &db) == SQLITE_OK && sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
		    sqlite3_exec(db, schema, NULL, NULL, NULL) == SQLITE_OK &&
		    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db,
				       "INSERT OR REPLACE INTO sample_outcomes(sample, puck, "
				       "slot, barcode, outcome, location, measured, series, "
				       "barcode_read, spacing_nm, orientation) VALUES(?1, ?2, ?3, "
				       "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
				       -1, &st, NULL) == SQLITE_OK
		? 0
		: -EIO;
	memset(c, 0, sizeof(*c));
	const cJSON *p;
	int i = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(status, "positions"))
	{
		if (rc)
			break;
		const char *state = s_of(p, "state");
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_int(st, 2, (int)n_of(p, "puck"));
		sqlite3_bind_int(st, 3, (int)n_of(p, "slot"));
		sqlite3_bind_text(st, 4, s_of(p, "barcode"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, state, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, s_of(p, "loc"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 7, (int)n_of(p, "measured"));
		sqlite3_bind_int64(st, 8, (sqlite3_int64)n_of(p, "series"));
		sqlite3_bind_text(st, 9, s_of(p, "read"), -1, SQLITE_TRANSIENT);
		if (i < n && isfinite(spacing[i]))
			sqlite3_bind_double(st, 10, spacing[i]);
		else
			sqlite3_bind_null(st, 10);
		if (i < n && isfinite(orientation[i]))
			sqlite3_bind_double(st, 11, orientation[i]);
		else
			sqlite3_bind_null(st, 11);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -EIO;
		sqlite3_reset(st);
		c->listed++;
		c->done += !strcmp(state, "done");
		c->quarantined += !strcmp(state, "quarantined");
		c->mismatch += !strcmp(state, "mismatch");
		c->fault += !strcmp(state, "fault");
		i++;
	}
	sqlite3_finalize(st);
	if (db && sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = rc ?: -EIO;
	if (rc && db)
		fprintf(stderr, "beamloop: %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}
