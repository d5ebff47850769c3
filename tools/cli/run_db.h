/* run_db.h: the campaign's sample outcomes in the run database (OUT/index.sqlite). */
#ifndef BL_RUN_DB_H
#define BL_RUN_DB_H

#include <cjson/cJSON.h>

struct bl_run_db_counts {
	int listed, done, quarantined, mismatch, fault;
};

/* Writes every position of controller STATUS ("positions") into table sample_outcomes, with
 * SPACING/ORIENTATION[sample] (N entries, NaN: none) as fitted; C gets the counts by outcome.
 * 0 or -EIO (logged). */
int bl_run_db_outcomes(const char *out_dir, const cJSON *status, const double *spacing,
		       const double *orientation, int n, struct bl_run_db_counts *c);

#endif
