/* hwdb_schema.c: the field tables of hwdb model and beamline files (the hwdb schema, in one place).
 */
#include "hwdb_schema.h"

#include <stddef.h>

#define ARR(a) (sizeof(a) / sizeof((a)[0]))
#define STR(k, st, m, fl)                                                                          \
	{                                                                                          \
		.key = k, .type = BL_F_STR, .off = offsetof(st, m), .size = sizeof(((st *)0)->m),  \
		.flags = fl                                                                        \
	}
#define ESTR(k, st, m, d)                                                                          \
	{                                                                                          \
		.key = k, .type = BL_F_ESTR, .off = offsetof(st, m), .size = sizeof(((st *)0)->m), \
		.defs = d                                                                          \
	}
#define INT(k, st, m, fl, lo, hi, d)                                                               \
	{                                                                                          \
		.key = k, .type = BL_F_INT, .off = offsetof(st, m), .flags = fl, .min = lo,        \
		.max = hi, .def = d                                                                \
	}
#define DBL(k, st, m, fl, lo, hi, d)                                                               \
	{                                                                                          \
		.key = k, .type = BL_F_DOUBLE, .off = offsetof(st, m), .flags = fl, .min = lo,     \
		.max = hi, .def = d                                                                \
	}
#define BOOL(k, st, m, d)                                                                          \
	{                                                                                          \
		.key = k, .type = BL_F_BOOL, .off = offsetof(st, m), .def = d                      \
	}
#define ENUM(k, st, m, fl, nm, d)                                                                  \
	{                                                                                          \
		.key = k, .type = BL_F_ENUM, .off = offsetof(st, m), .size = sizeof(((st *)0)->m), \
		.flags = fl, .names = nm, .def = d                                                 \
	}
#define RANGE(k, st, m, fl, lo, hi)                                                                \
	{                                                                                          \
		.key = k, .type = BL_F_RANGE, .off = offsetof(st, m), .flags = fl, .min = lo,      \
		.max = hi                                                                          \
	}
#define SUB(k, st, m, fl, sc)                                                                      \
	{                                                                                          \
		.key = k, .type = BL_F_STRUCT, .off = offsetof(st, m), .flags = fl, .sub = &sc     \
	}
#define POINT(k, st, m, fl)                                                                        \
	{                                                                                          \
		.key = k, .type = BL_F_DVEC, .off = offsetof(st, m), .size = 4, .flags = fl,       \
		.min = -5000, .max = 5000                                                          \
	}

const char *const bl_class_names[] = {"robot",	"barcode",  "pump",    "stage", "web",
				      "heater", "detector", "trigger", NULL};
const char *const bl_protocol_names[] = {
    "epson-rc-remote", "barcode-serial", "barcode-hid", "ne1000",
    "modbus",	       "simplon",	 "tbox",	NULL};
const char *const bl_transport_names[] = {"tcp", "serial", "modbus-tcp", "modbus-rtu",
					  "usb", "http",   NULL};
static const char *const parity_names[] = {"none", "even", "odd", NULL};
static const char *const table_names[] = {"coil", "discrete", "input", "holding", NULL};
static const char *const rtype_names[] = {"bool",   "int16",   "uint16", "int32",
					  "uint32", "float32", NULL};
static const char *const access_names[] = {"ro", "rw", NULL};
static const char *const order_names[] = {"high-first", "low-first", NULL};
static const char *const check_names[] = {"none", "mod10", "mod43", NULL};
static const char *const action_names[] = {"suspend", "abort", NULL};
static const char *const level_names[] = {"low", "high", NULL};

/* ---- shared pieces ---- */

typedef struct bl_hwdb_transport tr_t;
static const struct bl_field transport_fields[] = {
    ENUM("kind", tr_t, kind, BL_F_REQUIRED, bl_transport_names, 0),
    STR("host", tr_t, host, 0),
    INT("port", tr_t, port, 0, 1, 65535, 0),
    STR("device", tr_t, device, 0),
    INT("baud", tr_t, baud, 0, 300, 4000000, 9600),
    INT("data_bits", tr_t, data_bits, 0, 5, 8, 8),
    ENUM("parity", tr_t, parity, 0, parity_names, 0),
    INT("stop_bits", tr_t, stop_bits, 0, 1, 2, 1),
    INT("unit_id", tr_t, unit_id, 0, 0, 247, 1),
    ESTR("terminator", tr_t, terminator, "\r"),
    INT("usb_vid", tr_t, usb_vid, 0, 0, 0xffff, 0),
    INT("usb_pid", tr_t, usb_pid, 0, 0, 0xffff, 0),
};
const struct bl_schema bl_transport_schema = BL_SCHEMA(transport_fields);

typedef struct bl_hwdb_timeouts to_t;
static const struct bl_field timeout_fields[] = {
    INT("connect", to_t, connect_ms, 0, 1, 600000, 2000),
    INT("command", to_t, command_ms, 0, 1, 600000, 1000),
    INT("motion", to_t, motion_ms, 0, 1, 3600000, 60000),
};
static const struct bl_schema timeout_schema = BL_SCHEMA(timeout_fields);

/* ---- model files ---- */

typedef struct bl_hwdb_register reg_t;
static const struct bl_field register_fields[] = {
    STR("name", reg_t, name, BL_F_REQUIRED),
    ENUM("table", reg_t, table, BL_F_REQUIRED, table_names, 0),
    ENUM("type", reg_t, type, 0, rtype_names, BL_REG_UINT16),
    INT("address", reg_t, address, BL_F_REQUIRED, 0, 65535, 0),
    DBL("scale", reg_t, scale, 0, -1e9, 1e9, 1.0),
    DBL("offset", reg_t, offset, 0, -1e9, 1e9, 0.0),
    STR("unit", reg_t, unit, 0),
    ENUM("access", reg_t, writable, 0, access_names, 0),
    ENUM("word_order", reg_t, word_order, 0, order_names, 0),
    {.key = "limits",
     .type = BL_F_RANGE,
     .off = offsetof(reg_t, limits),
     .flags = BL_F_HAS,
     .has_off = offsetof(reg_t, has_limits),
     .min = -1e12,
     .max = 1e12},
};
static const struct bl_schema register_schema = BL_SCHEMA(register_fields);
static const struct bl_field register_elem = {.type = BL_F_STRUCT, .sub = &register_schema};

typedef struct bl_hwdb_robot_model rm_t;
static const struct bl_field robot_model_fields[] = {
    DBL("reach_mm", rm_t, reach_mm, BL_F_REQUIRED, 1, 5000, 0),
    DBL("inner_reach_mm", rm_t, inner_reach_mm, 0, 0, 5000, 0),
    RANGE("z_mm", rm_t, z_mm, BL_F_REQUIRED, -5000, 5000),
    DBL("max_speed_mm_s", rm_t, max_speed_mm_s, 0, 1, 20000, 1000),
    INT("heartbeat_ms", rm_t, heartbeat_ms, 0, 10, 600000, 1000),
};
static const struct bl_schema robot_model_schema = BL_SCHEMA(robot_model_fields);

typedef struct bl_hwdb_barcode_model bm_t;
static const struct bl_field barcode_model_fields[] = {
    ESTR("trigger", bm_t, trigger, ""),
    ESTR("stop", bm_t, stop, ""),
    ESTR("no_read", bm_t, no_read, "NR"),
    INT("max_len", bm_t, max_len, 0, 1, 512, 64),
};
static const struct bl_schema barcode_model_schema = BL_SCHEMA(barcode_model_fields);

typedef struct bl_hwdb_pump_model pm_t;
static const struct bl_field pump_model_fields[] = {
    RANGE("diameter_mm", pm_t, diameter_mm, BL_F_REQUIRED, 0.01, 100),
    DBL("max_rate_ul_min", pm_t, max_rate_ul_min, BL_F_REQUIRED, 1e-6, 1e9, 0),
};
static const struct bl_schema pump_model_schema = BL_SCHEMA(pump_model_fields);

typedef struct bl_hwdb_detector_model dm_t;
static const struct bl_field detector_model_fields[] = {
    INT("width_px", dm_t, width, BL_F_REQUIRED, 1, 65536, 0),
    INT("height_px", dm_t, height, BL_F_REQUIRED, 1, 65536, 0),
    DBL("pixel_x_um", dm_t, pixel_x_um, BL_F_REQUIRED, 0.1, 10000, 0),
    DBL("pixel_y_um", dm_t, pixel_y_um, BL_F_REQUIRED, 0.1, 10000, 0),
    INT("bit_depth", dm_t, bit_depth, 0, 8, 32, 32),
    DBL("max_frame_rate_hz", dm_t, max_frame_rate_hz, 0, 0.001, 1e6, 500),
    STR("api_version", dm_t, api_version, 0),
};
static const struct bl_schema detector_model_schema = BL_SCHEMA(detector_model_fields);

typedef struct bl_hwdb_trigger_model tm_t;
static const struct bl_field trigger_model_fields[] = {
    INT("channels", tm_t, channels, BL_F_REQUIRED, 1, 64, 0),
    DBL("min_period_us", tm_t, min_period_us, 0, 0.001, 1e9, 1),
    DBL("min_width_us", tm_t, min_width_us, 0, 0.001, 1e9, 0.1),
};
static const struct bl_schema trigger_model_schema = BL_SCHEMA(trigger_model_fields);

typedef struct bl_hwdb_model mo_t;
static const struct bl_field model_fields[] = {
    STR("model", mo_t, name, BL_F_REQUIRED),
    STR("vendor", mo_t, vendor, 0),
    STR("description", mo_t, description, 0),
    ENUM("class", mo_t, cls, BL_F_REQUIRED, bl_class_names, 0),
    ENUM("protocol", mo_t, protocol, BL_F_REQUIRED, bl_protocol_names, 0),
    SUB("transport", mo_t, transport, BL_F_REQUIRED, bl_transport_schema),
    SUB("timeouts_ms", mo_t, timeouts, 0, timeout_schema),
    {.key = "registers",
     .type = BL_F_ARRAY,
     .off = offsetof(mo_t, registers),
     .size = sizeof(reg_t),
     .elem = &register_elem,
     .count_off = offsetof(mo_t, nregisters),
     .cap = BL_HWDB_MAX_REGISTERS},
    SUB("robot", mo_t, robot, 0, robot_model_schema),
    SUB("barcode", mo_t, barcode, 0, barcode_model_schema),
    SUB("pump", mo_t, pump, 0, pump_model_schema),
    SUB("detector", mo_t, detector, 0, detector_model_schema),
    SUB("trigger", mo_t, trigger, 0, trigger_model_schema),
};
const struct bl_schema bl_model_schema = BL_SCHEMA(model_fields);

/* ---- beamline files ---- */

typedef struct bl_hwdb_device dev_t;
static const struct bl_field device_fields[] = {
    STR("name", dev_t, name, BL_F_REQUIRED),
    STR("model", dev_t, model_name, BL_F_REQUIRED),
    STR("description", dev_t, description, 0),
    SUB("transport", dev_t, transport, BL_F_REQUIRED, bl_transport_schema),
    SUB("timeouts_ms", dev_t, timeouts, 0, timeout_schema),
    INT("address", dev_t, address, 0, 0, 99, -1),
    STR("stream", dev_t, stream, 0),
};
static const struct bl_schema device_schema = BL_SCHEMA(device_fields);
static const struct bl_field device_elem = {.type = BL_F_STRUCT, .sub = &device_schema};

static const struct bl_field point_elem = {.type = BL_F_DVEC, .size = 4, .min = -5000, .max = 5000};
static const struct bl_field named_point_elem = {.type = BL_F_DVEC,
						 .off = offsetof(struct bl_named_point, p),
						 .size = 4,
						 .min = -5000,
						 .max = 5000};

typedef struct bl_hwdb_puck puck_t;
static const struct bl_field puck_fields[] = {
    INT("id", puck_t, id, BL_F_REQUIRED, 1, 99, 0),
    {.key = "slots",
     .type = BL_F_ARRAY,
     .off = offsetof(puck_t, slots),
     .size = sizeof(struct bl_point),
     .flags = BL_F_REQUIRED,
     .elem = &point_elem,
     .count_off = offsetof(puck_t, nslots),
     .cap = BL_HWDB_MAX_SLOTS},
};
static const struct bl_schema puck_schema = BL_SCHEMA(puck_fields);
static const struct bl_field puck_elem = {.type = BL_F_STRUCT, .sub = &puck_schema};

typedef struct bl_hwdb_robot ro_t;
static const struct bl_field robot_fields[] = {
    STR("device", ro_t, device, BL_F_REQUIRED),
    INT("robot_number", ro_t, robot_number, 0, 1, 16, 1),
    STR("password", ro_t, password, 0),
    INT("gripper_output", ro_t, gripper_output, 0, 0, 1023, 8),
    INT("gripper_sensor", ro_t, gripper_sensor, 0, -1, 1023, 10),
    INT("stage_sensor", ro_t, stage_sensor, 0, -1, 1023, -1),
    DBL("speed_pct", ro_t, speed_pct, 0, 1, 100, 20),
    DBL("accel_pct", ro_t, accel_pct, 0, 1, 100, 20),
    DBL("approach_mm", ro_t, approach_mm, 0, 0, 500, 30),
    {.key = "safe_poses",
     .type = BL_F_DICT,
     .off = offsetof(ro_t, safe_poses),
     .size = sizeof(struct bl_named_point),
     .flags = BL_F_REQUIRED,
     .elem = &named_point_elem,
     .count_off = offsetof(ro_t, nsafe),
     .cap = BL_HWDB_MAX_POSES},
    POINT("barcode_station", ro_t, barcode_station, BL_F_REQUIRED),
    POINT("stage", ro_t, stage, BL_F_REQUIRED),
    {.key = "pucks",
     .type = BL_F_ARRAY,
     .off = offsetof(ro_t, pucks),
     .size = sizeof(puck_t),
     .flags = BL_F_REQUIRED,
     .elem = &puck_elem,
     .count_off = offsetof(ro_t, npucks),
     .cap = BL_HWDB_MAX_PUCKS},
};
static const struct bl_schema robot_schema = BL_SCHEMA(robot_fields);

typedef struct bl_hwdb_barcode bc_t;
static const struct bl_field barcode_fields[] = {
    STR("device", bc_t, device, BL_F_REQUIRED),
    STR("pattern", bc_t, pattern, 0),
    ENUM("check_digit", bc_t, check_digit, 0, check_names, 0),
    INT("retries", bc_t, retries, 0, 0, 20, 2),
};
static const struct bl_schema barcode_schema = BL_SCHEMA(barcode_fields);

static const struct bl_field name_elem = {
    .type = BL_F_STR, .size = BL_HWDB_NAME_MAX, .flags = BL_F_REQUIRED};
typedef struct bl_hwdb_printer pr_t;
static const struct bl_field printer_fields[] = {
    STR("pump", pr_t, pump, BL_F_REQUIRED),
    STR("coater", pr_t, coater, BL_F_REQUIRED),
    STR("web", pr_t, web, BL_F_REQUIRED),
    {.key = "heaters",
     .type = BL_F_ARRAY,
     .off = offsetof(pr_t, heaters),
     .size = BL_HWDB_NAME_MAX,
     .flags = BL_F_REQUIRED,
     .elem = &name_elem,
     .count_off = offsetof(pr_t, nheaters),
     .cap = BL_HWDB_MAX_HEATERS},
    DBL("syringe_diameter_mm", pr_t, syringe_diameter_mm, BL_F_REQUIRED, 0.01, 100, 0),
    RANGE("flow_ul_min", pr_t, flow_ul_min, BL_F_REQUIRED, 0, 1e6),
    RANGE("coat_speed_mm_s", pr_t, coat_speed_mm_s, BL_F_REQUIRED, 0, 1000),
    RANGE("web_speed_mm_s", pr_t, web_speed_mm_s, BL_F_REQUIRED, 0, 1000),
    RANGE("temperature_c", pr_t, temperature_c, BL_F_REQUIRED, -50, 500),
    RANGE("gap_um", pr_t, gap_um, 0, 0, 10000),
    RANGE("coater_travel_mm", pr_t, coater_travel_mm, 0, -2000, 2000),
};
static const struct bl_schema printer_schema = BL_SCHEMA(printer_fields);

typedef struct bl_hwdb_geometry ge_t;
static const struct bl_field geometry_fields[] = {
    STR("device", ge_t, device, BL_F_REQUIRED),
    DBL("distance_mm", ge_t, distance_mm, BL_F_REQUIRED, 1, 100000, 0),
    DBL("beam_center_x_px", ge_t, beam_center_x_px, BL_F_REQUIRED, -100000, 100000, 0),
    DBL("beam_center_y_px", ge_t, beam_center_y_px, BL_F_REQUIRED, -100000, 100000, 0),
    DBL("wavelength_nm", ge_t, wavelength_nm, BL_F_REQUIRED, 0.001, 10, 0),
    DBL("incidence_deg", ge_t, incidence_deg, 0, 0, 10, 0),
    DBL("tilt_deg", ge_t, tilt_deg, 0, -45, 45, 0),
    DBL("tilt_plane_deg", ge_t, tilt_plane_deg, 0, -360, 360, 0),
    DBL("count_time_s", ge_t, count_time_s, 0, 1e-6, 3600, 1),
};
static const struct bl_schema geometry_schema = BL_SCHEMA(geometry_fields);

typedef struct bl_hwdb_trigger tg_t;
static const struct bl_field trigger_fields[] = {
    STR("device", tg_t, device, BL_F_REQUIRED),
    INT("detector_channel", tg_t, detector_channel, BL_F_REQUIRED, 0, 63, 0),
    DBL("width_us", tg_t, width_us, 0, 0.001, 1e9, 10),
};
static const struct bl_schema trigger_schema = BL_SCHEMA(trigger_fields);

typedef struct bl_hwdb_interlock il_t;
static const struct bl_field interlock_fields[] = {
    STR("name", il_t, name, BL_F_REQUIRED),
    STR("source", il_t, source, BL_F_REQUIRED),
    INT("input", il_t, input, BL_F_REQUIRED, 0, 1023, 0),
    ENUM("active", il_t, active_high, BL_F_REQUIRED, level_names, 0),
    ENUM("action", il_t, action, 0, action_names, 0),
};
static const struct bl_schema interlock_schema = BL_SCHEMA(interlock_fields);
static const struct bl_field interlock_elem = {.type = BL_F_STRUCT, .sub = &interlock_schema};

/* "base" and "models" are handled by the loader before the schema is applied; they are listed so
 * that the unknown-key message names them. */
static const struct bl_field beamline_fields[] = {
    STR("beamline", struct bl_hwdb, beamline, BL_F_REQUIRED),
    STR("description", struct bl_hwdb, description, 0),
    {.key = "base", .type = BL_F_STR, .off = offsetof(struct bl_hwdb, file), .size = 1},
    {.key = "models", .type = BL_F_STR, .off = offsetof(struct bl_hwdb, file), .size = 1},
    {.key = "devices",
     .type = BL_F_ARRAY,
     .off = offsetof(struct bl_hwdb, devices),
     .size = sizeof(dev_t),
     .flags = BL_F_REQUIRED,
     .elem = &device_elem,
     .count_off = offsetof(struct bl_hwdb, ndevices),
     .cap = BL_HWDB_MAX_DEVICES},
    SUB("robot", struct bl_hwdb, robot, 0, robot_schema),
    SUB("barcode", struct bl_hwdb, barcode, 0, barcode_schema),
    SUB("printer", struct bl_hwdb, printer, 0, printer_schema),
    SUB("detector", struct bl_hwdb, detector, 0, geometry_schema),
    SUB("trigger", struct bl_hwdb, trigger, 0, trigger_schema),
    {.key = "interlocks",
     .type = BL_F_ARRAY,
     .off = offsetof(struct bl_hwdb, interlocks),
     .size = sizeof(il_t),
     .elem = &interlock_elem,
     .count_off = offsetof(struct bl_hwdb, ninterlocks),
     .cap = BL_HWDB_MAX_INTERLOCKS},
};
const struct bl_schema bl_beamline_schema = BL_SCHEMA(beamline_fields);
