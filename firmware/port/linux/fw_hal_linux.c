/* fw_hal_linux.c: the core's HAL on Linux: requests become jobs for the device workers, the
 * journal calls ride on the robot worker, notes and faults go to the log and the event stream. */
#include <errno.h>
#include <string.h>

#include "core/hal/bl_hal.h"
#include "core/hal/bl_hal_sample.h"
#include "port/linux/fw_app.h"

static struct bl_fw_app *app;

void bl_fw_hal_bind(struct bl_fw_app *a)
{
	app = a;
}

static int push(struct bl_fw_worker *w, struct bl_fw_job j)
{
	int rc = bl_fw_worker_push(w, &j);
	if (rc)
		bl_fw_log(app, "%s: job %d refused: %s", w->name, j.op, strerror(-rc));
	return rc;
}

int bl_hal_robot(uint32_t req, int op, uint8_t puck, uint8_t slot)
{
	if (app->blocked)
		return -EPERM; /* the reconcile could not prove where every sample is */
	return push(
	    &app->robot_w,
	    (struct bl_fw_job){.op = BL_FW_J_ROBOT, .req = req, .a = op, .b = puck, .c = slot});
}

int bl_hal_barcode_read(uint32_t req)
{
	return push(&app->barcode_w, (struct bl_fw_job){.op = BL_FW_J_READ, .req = req});
}

int bl_hal_detector_arm(uint32_t req, uint32_t frames, uint64_t count_time)
{
	return push(&app->det_w, (struct bl_fw_job){
				     .op = BL_FW_J_ARM, .req = req, .n = frames, .t0 = count_time});
}

int bl_hal_detector_disarm(uint32_t req)
{
	return push(&app->det_w, (struct bl_fw_job){.op = BL_FW_J_DISARM, .req = req});
}

int bl_hal_trigger_train(uint32_t req, uint64_t start, uint64_t period, uint32_t count)
{
	bl_fw_trigseq_train(app, app->sfsm.series, start, period, count);
	return push(&app->trig_w, (struct bl_fw_job){.op = BL_FW_J_TRAIN,
						     .req = req,
						     .a = (int)app->sfsm.series,
						     .t0 = start,
						     .t1 = period,
						     .n = count});
}

int bl_hal_trigger_stop(uint32_t req)
{
	bl_fw_trigseq_cut(app);
	return push(&app->trig_w, (struct bl_fw_job){.op = BL_FW_J_STOP, .req = req});
}

static cJSON *loc_event(uint16_t sample, int a_loc, int b_loc, const char *ka, const char *kb)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "sample", sample);
	cJSON_AddStringToObject(o, ka, bl_loc_name(a_loc));
	cJSON_AddStringToObject(o, kb, bl_loc_name(b_loc));
	return o;
}

void bl_hal_journal_intent(uint16_t sample, int from, int to)
{
	/* If the job cannot even be queued, the robot job behind it is refused the same way. */
	if (push(&app->robot_w,
		 (struct bl_fw_job){.op = BL_FW_J_INTENT, .a = sample, .b = from, .c = to}) == 0 &&
	    app->net)
		bl_fw_net_publish(app->net, "journal", loc_event(sample, from, to, "from", "to"));
}

void bl_hal_journal_outcome(uint16_t sample, int at, int rc)
{
	push(&app->robot_w,
	     (struct bl_fw_job){.op = BL_FW_J_OUTCOME, .a = sample, .b = at, .c = rc});
	if (app->net) {
		cJSON *o = loc_event(sample, at, at, "at", "loc");
		cJSON_AddNumberToObject(o, "rc", rc);
		bl_fw_net_publish(app->net, "journal", o);
	}
}

void bl_hal_safe_state(int reason, int err)
{
	/* The robot's running motion ends with its own error (the device failed) or is cut by the
	 * e-stop in the controller itself; what the port adds: stop the trigger train, disarm the
	 * detector. Jobs, so this never blocks the loop. */
	bl_fw_log(app, "SAFE STATE: reason %d (%s)", reason, strerror(-err));
	push(&app->trig_w, (struct bl_fw_job){.op = BL_FW_J_STOP, .req = 0});
	push(&app->det_w, (struct bl_fw_job){.op = BL_FW_J_DISARM, .req = 0});
	bl_fw_trigseq_cut(app);
	if (app->net) {
		const struct bl_sfsm_fault *f = bl_sfsm_fault(&app->sfsm);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "reason", reason);
		cJSON_AddNumberToObject(o, "err", err);
		cJSON_AddStringToObject(o, "error", strerror(-err));
		cJSON_AddNumberToObject(o, "sample", f->sample);
		cJSON_AddStringToObject(o, "last_known", bl_loc_name(f->last_known));
		cJSON_AddStringToObject(o, "moving_to", bl_loc_name(f->moving_to));
		cJSON_AddStringToObject(o, "step", bl_sfsm_state_name(f->state));
		bl_fw_net_publish(app->net, "fault", o);
	}
}

void bl_hal_fault(const struct bl_fault *fault)
{
	bl_fw_log(app, "real-time fault %d: command %u (type %#x) late by %llu us (%s)",
		  fault->code, (unsigned)fault->cmd_id, (unsigned)fault->cmd_type,
		  (unsigned long long)fault->late_by, strerror(-fault->err));
	/* The print FSM owns its timed commands: an overdue or failed one faults the print. */
	if (fault->source == app->pcfg.sched_source) {
		struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_SCHED_FAULT, .fault = fault};
		bl_fw_pstep(app, &ev);
	}
}

static const char *note_name(int what)
{
	static const char *const n[] = {"",	    "sample_start", "barcode_retry", "quarantine",
					"mismatch", "measured",	    "discarded",     "suspend",
					"resume",   "finished",	    "abort",	     "reset",
					"scanned",  "agent_silent", "restored"};
	return what > 0 && what < (int)(sizeof(n) / sizeof(n[0])) ? n[what] : "?";
}

void bl_hal_sfsm_note(int what, int sample, int64_t value)
{
	if (sample >= 0 && (what == BL_NOTE_SAMPLE_START || what == BL_NOTE_MEASURED ||
			    what == BL_NOTE_FINISHED || what == BL_NOTE_RESET)) {
		/* Position state changes are journaled: after a restart no sample is measured
		 * twice. */
		const struct bl_sfsm_pos_status *p = &app->sfsm.pos[sample];
		int state = what == BL_NOTE_FINISHED ? (int)value : p->state;
		push(&app->robot_w, (struct bl_fw_job){.op = BL_FW_J_POS,
						       .a = sample,
						       .b = state,
						       .measured = p->measured > 0,
						       .n = p->series});
	}
	push(&app->robot_w,
	     (struct bl_fw_job){.op = BL_FW_J_NOTE, .a = sample, .b = what, .t0 = (uint64_t)value});
	bl_fw_log(app, "note %s sample %d value %lld", note_name(what), sample, (long long)value);
	if (app->net) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "what", note_name(what));
		cJSON_AddNumberToObject(o, "sample", sample);
		cJSON_AddNumberToObject(o, "value", (double)value);
		bl_fw_net_publish(app->net, "note", o);
	}
}
