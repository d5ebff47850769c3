/* hwdb_show.c: prints a loaded beamline description, models folded in and defaults filled, as YAML.
 */
#include <ctype.h>
#include <stdio.h>

#include "bl_hwdb.h"

/* Writes S as a double-quoted YAML string with control characters escaped. */
static void yq(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\r')
			fputs("\\r", o);
		else if (c == '\n')
			fputs("\\n", o);
		else if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (!isprint(c))
			fprintf(o, "\\x%02x", c);
		else
			fputc(c, o);
	}
	fputc('"', o);
}

static void pt(FILE *o, const struct bl_point *p)
{
	fprintf(o, "[%g, %g, %g, %g]", p->x, p->y, p->z, p->u);
}

static void transport(FILE *o, const struct bl_hwdb_transport *t)
{
	fprintf(o, "    transport: {kind: %s", bl_hwdb_transport_name(t->kind));
	switch (t->kind) {
	case BL_TR_TCP:
	case BL_TR_HTTP:
	case BL_TR_MODBUS_TCP: fprintf(o, ", host: %s, port: %d", t->host, t->port); break;
	case BL_TR_SERIAL:
	case BL_TR_MODBUS_RTU:
		fprintf(o, ", device: %s, baud: %d, data_bits: %d, parity: %s, stop_bits: %d",
			t->device, t->baud, t->data_bits,
			t->parity == BL_PARITY_NONE   ? "none"
			: t->parity == BL_PARITY_EVEN ? "even"
						      : "odd",
			t->stop_bits);
		break;
	case BL_TR_USB:
		fprintf(o, ", usb_vid: 0x%04x, usb_pid: 0x%04x", t->usb_vid, t->usb_pid);
		break;
	}
	if (t->kind == BL_TR_MODBUS_TCP || t->kind == BL_TR_MODBUS_RTU)
		fprintf(o, ", unit_id: %d", t->unit_id);
	else if (t->kind != BL_TR_HTTP && t->kind != BL_TR_USB) {
		fputs(", terminator: ", o);
		yq(o, t->terminator);
	}
	fputs("}\n", o);
}

static void device(FILE *o, const struct bl_hwdb_device *d)
{
	const struct bl_hwdb_model *m = d->model;
	fprintf(o, "  - name: %s\n    model: %s\n    class: %s\n    protocol: %s\n", d->name,
		m->name, bl_hwdb_class_name(m->cls), bl_hwdb_protocol_name(m->protocol));
	if (m->vendor[0])
		fprintf(o, "    vendor: %s\n", m->vendor);
	transport(o, &d->transport);
	fprintf(o, "    timeouts_ms: {connect: %d, command: %d, motion: %d}\n",
		d->timeouts.connect_ms, d->timeouts.command_ms, d->timeouts.motion_ms);
	if (d->address >= 0)
		fprintf(o, "    address: %d\n", d->address);
	if (d->stream[0])
		fprintf(o, "    stream: %s\n", d->stream);
	if (m->nregisters)
		fputs("    registers:\n", o);
	for (size_t i = 0; i < m->nregisters; i++) {
		static const char *const tab[] = {"coil", "discrete", "input", "holding"};
		static const char *const typ[] = {"bool",  "int16",  "uint16",
						  "int32", "uint32", "float32"};
		const struct bl_hwdb_register *r = &m->registers[i];
		fprintf(o,
			"      - {name: %s, table: %s, address: %d, type: %s, scale: %g, "
			"offset: %g, unit: ",
			r->name, tab[r->table], r->address, typ[r->type], r->scale, r->offset);
		yq(o, r->unit);
		fprintf(o, ", access: %s", r->writable ? "rw" : "ro");
		if (r->has_limits)
			fprintf(o, ", limits: [%g, %g]", r->limits.min, r->limits.max);
		fputs("}\n", o);
	}
}

void bl_hwdb_show(const struct bl_hwdb *db, FILE *o)
{
	fprintf(o, "beamline: %s\n", db->beamline);
	if (db->description[0]) {
		fputs("description: ", o);
		yq(o, db->description);
		fputc('\n', o);
	}
	fprintf(o, "file: %s\ndevices:\n", db->file);
	for (size_t i = 0; i < db->ndevices; i++)
		device(o, &db->devices[i]);
	const struct bl_hwdb_robot *r = &db->robot;
	if (r->device[0]) {
		fprintf(o, "robot:\n  device: %s\n  robot_number: %d\n  password: %s\n", r->device,
			r->robot_number, r->password[0] ? "(set)" : "(none)");
		fprintf(o, "  gripper_output: %d\n  gripper_sensor: %d\n  stage_sensor: %d\n",
			r->gripper_output, r->gripper_sensor, r->stage_sensor);
		fprintf(o, "  speed_pct: %g\n  accel_pct: %g\n  approach_mm: %g\n", r->speed_pct,
			r->accel_pct, r->approach_mm);
		fputs("  safe_poses:\n", o);
		for (size_t i = 0; i < r->nsafe; i++) {
			fprintf(o, "    %s: ", r->safe_poses[i].name);
			pt(o, &r->safe_poses[i].p);
			fputc('\n', o);
		}
		fputs("  barcode_station: ", o);
		pt(o, &r->barcode_station);
		fputs("\n  stage: ", o);
		pt(o, &r->stage);
		fputs("\n  pucks:\n", o);
		for (size_t i = 0; i < r->npucks; i++) {
			fprintf(o, "    - id: %d\n      slots:\n", r->pucks[i].id);
			for (size_t s = 0; s < r->pucks[i].nslots; s++) {
				fputs("        - ", o);
				pt(o, &r->pucks[i].slots[s]);
				fprintf(o, "  # slot %zu\n", s + 1);
			}
		}
	}
	if (db->barcode.device[0]) {
		static const char *const ck[] = {"none", "mod10", "mod43"};
		fprintf(o, "barcode:\n  device: %s\n  pattern: ", db->barcode.device);
		yq(o, db->barcode.pattern);
		fprintf(o, "\n  check_digit: %s\n  retries: %d\n", ck[db->barcode.check_digit],
			db->barcode.retries);
	}
	const struct bl_hwdb_printer *p = &db->printer;
	if (p->pump[0]) {
		fprintf(o, "printer:\n  pump: %s\n  coater: %s\n  web: %s\n  heaters: [", p->pump,
			p->coater, p->web);
		for (size_t i = 0; i < p->nheaters; i++)
			fprintf(o, "%s%s", i ? ", " : "", p->heaters[i]);
		fprintf(o, "]\n  syringe_diameter_mm: %g\n", p->syringe_diameter_mm);
		fprintf(o, "  flow_ul_min: [%g, %g]\n  coat_speed_mm_s: [%g, %g]\n",
			p->flow_ul_min.min, p->flow_ul_min.max, p->coat_speed_mm_s.min,
			p->coat_speed_mm_s.max);
		fprintf(o, "  web_speed_mm_s: [%g, %g]\n  temperature_c: [%g, %g]\n",
			p->web_speed_mm_s.min, p->web_speed_mm_s.max, p->temperature_c.min,
			p->temperature_c.max);
		fprintf(o, "  gap_um: [%g, %g]\n  coater_travel_mm: [%g, %g]\n", p->gap_um.min,
			p->gap_um.max, p->coater_travel_mm.min, p->coater_travel_mm.max);
	}
	const struct bl_hwdb_geometry *g = &db->detector;
	if (g->device[0]) {
		const struct bl_hwdb_device *d = bl_hwdb_device(db, g->device);
		const struct bl_hwdb_detector_model *dm = &d->model->detector;
		fprintf(o, "detector:\n  device: %s\n  shape_px: [%d, %d]\n  pixel_um: [%g, %g]\n",
			g->device, dm->width, dm->height, dm->pixel_x_um, dm->pixel_y_um);
		fprintf(o, "  distance_mm: %g\n  beam_center_px: [%g, %g]\n  wavelength_nm: %g\n",
			g->distance_mm, g->beam_center_x_px, g->beam_center_y_px, g->wavelength_nm);
		fprintf(o,
			"  incidence_deg: %g\n  tilt_deg: %g\n  tilt_plane_deg: %g\n"
			"  count_time_s: %g\n",
			g->incidence_deg, g->tilt_deg, g->tilt_plane_deg, g->count_time_s);
	}
	if (db->trigger.device[0])
		fprintf(o, "trigger:\n  device: %s\n  detector_channel: %d\n  width_us: %g\n",
			db->trigger.device, db->trigger.detector_channel, db->trigger.width_us);
	if (db->ninterlocks)
		fputs("interlocks:\n", o);
	for (size_t i = 0; i < db->ninterlocks; i++) {
		const struct bl_hwdb_interlock *il = &db->interlocks[i];
		fprintf(o, "  - {name: %s, source: %s, input: %d, active: %s, action: %s}\n",
			il->name, il->source, il->input, il->active_high ? "high" : "low",
			il->action == BL_IL_SUSPEND ? "suspend" : "abort");
	}
}
