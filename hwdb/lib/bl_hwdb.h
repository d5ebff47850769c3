/* bl_hwdb.h: typed view of a beamline description (devices, models, teach points, limits) loaded
 * from hwdb YAML. */
#ifndef BL_HWDB_H
#define BL_HWDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define BL_HWDB_NAME_MAX       48
#define BL_HWDB_TEXT_MAX       160
#define BL_HWDB_PATH_MAX       256
#define BL_HWDB_MAX_MODELS     32
#define BL_HWDB_MAX_DEVICES    32
#define BL_HWDB_MAX_REGISTERS  48
#define BL_HWDB_MAX_PUCKS      8
#define BL_HWDB_MAX_SLOTS      16
#define BL_HWDB_MAX_POSES      16
#define BL_HWDB_MAX_HEATERS    4
#define BL_HWDB_MAX_INTERLOCKS 16
#define BL_HWDB_MAX_ERRORS     64

enum bl_dev_class {
	BL_CLASS_ROBOT,
	BL_CLASS_BARCODE,
	BL_CLASS_PUMP,
	BL_CLASS_STAGE,
	BL_CLASS_WEB,
	BL_CLASS_HEATER,
	BL_CLASS_DETECTOR,
	BL_CLASS_TRIGGER,
};

enum bl_protocol {
	BL_PROTO_EPSON_RC,	 /* Epson RC+ Remote Ethernet */
	BL_PROTO_BARCODE_SERIAL, /* trigger string -> code + terminator */
	BL_PROTO_BARCODE_HID,	 /* USB HID keyboard-wedge scanner */
	BL_PROTO_NE1000,	 /* New Era syringe pump RS-232 ASCII */
	BL_PROTO_MODBUS,	 /* register map below */
	BL_PROTO_SIMPLON,	 /* Dectris SIMPLON REST + stream v1 */
	BL_PROTO_TBOX,		 /* beamloop trigger box bulk protocol */
};

enum bl_transport_kind {
	BL_TR_TCP,
	BL_TR_SERIAL,
	BL_TR_MODBUS_TCP,
	BL_TR_MODBUS_RTU,
	BL_TR_USB,
	BL_TR_HTTP,
};

enum bl_parity { BL_PARITY_NONE, BL_PARITY_EVEN, BL_PARITY_ODD };
enum bl_reg_table { BL_REG_COIL, BL_REG_DISCRETE, BL_REG_INPUT, BL_REG_HOLDING };
enum bl_reg_type {
	BL_REG_BOOL,
	BL_REG_INT16,
	BL_REG_UINT16,
	BL_REG_INT32,
	BL_REG_UINT32,
	BL_REG_FLOAT32
};
enum bl_word_order { BL_WORDS_HIGH_FIRST, BL_WORDS_LOW_FIRST };
enum bl_check_digit { BL_CHECK_NONE, BL_CHECK_MOD10, BL_CHECK_MOD43 };
enum bl_interlock_action { BL_IL_SUSPEND, BL_IL_ABORT };

/* A robot pose in the robot's base frame: X, Y, Z in mm, U (wrist) in degrees. */
struct bl_point {
	double x, y, z, u;
};

struct bl_range {
	double min, max;
};

struct bl_hwdb_transport {
	enum bl_transport_kind kind;
	char host[64];
	int port;
	char device[BL_HWDB_PATH_MAX]; /* serial device / pty path */
	int baud;
	int data_bits;
	enum bl_parity parity;
	int stop_bits;
	int unit_id;	    /* Modbus slave id */
	char terminator[8]; /* line terminator of ASCII protocols (escapes resolved) */
	int usb_vid, usb_pid;
};

struct bl_hwdb_timeouts {
	int connect_ms;
	int command_ms;
	int motion_ms;
};

struct bl_hwdb_register {
	char name[BL_HWDB_NAME_MAX];
	enum bl_reg_table table;
	enum bl_reg_type type;
	int address;
	double scale; /* engineering value = raw * scale + offset */
	double offset;
	char unit[16];
	bool writable;
	enum bl_word_order word_order;
	bool has_limits;
	struct bl_range limits; /* engineering units, enforced by the driver on writes */
};

struct bl_hwdb_robot_model {
	double reach_mm;       /* outer radius of the work envelope */
	double inner_reach_mm; /* inner dead zone around the base */
	struct bl_range z_mm;
	double max_speed_mm_s;
	int heartbeat_ms; /* keep-alive interval below the controller's remote timeout */
};

struct bl_hwdb_barcode_model {
	char trigger[16]; /* escapes resolved */
	char stop[16];
	char no_read[16];
	int max_len;
};

struct bl_hwdb_pump_model {
	struct bl_range diameter_mm;
	double max_rate_ul_min;
};

struct bl_hwdb_detector_model {
	int width, height; /* pixels (fast, slow) */
	double pixel_x_um, pixel_y_um;
	int bit_depth;
	double max_frame_rate_hz;
	char api_version[16];
};

struct bl_hwdb_trigger_model {
	int channels;
	double min_period_us;
	double min_width_us;
};

struct bl_hwdb_model {
	char name[BL_HWDB_NAME_MAX];
	char vendor[BL_HWDB_NAME_MAX];
	char description[BL_HWDB_TEXT_MAX];
	enum bl_dev_class cls;
	enum bl_protocol protocol;
	struct bl_hwdb_transport transport; /* defaults for devices of this model */
	struct bl_hwdb_timeouts timeouts;
	size_t nregisters;
	struct bl_hwdb_register registers[BL_HWDB_MAX_REGISTERS];
	struct bl_hwdb_robot_model robot;
	struct bl_hwdb_barcode_model barcode;
	struct bl_hwdb_pump_model pump;
	struct bl_hwdb_detector_model detector;
	struct bl_hwdb_trigger_model trigger;
	char file[BL_HWDB_PATH_MAX]; /* where it was defined */
	int line;
};

struct bl_hwdb_device {
	char name[BL_HWDB_NAME_MAX];
	char model_name[BL_HWDB_NAME_MAX];
	const struct bl_hwdb_model *model;
	struct bl_hwdb_transport transport; /* model defaults overridden by the device */
	struct bl_hwdb_timeouts timeouts;
	int address;	  /* pump address on a daisy chain, -1 when unused */
	char stream[128]; /* detector data stream endpoint (ZMQ), "" when unused */
	char description[BL_HWDB_TEXT_MAX];
	int line;
};

struct bl_named_point {
	char name[BL_HWDB_NAME_MAX];
	struct bl_point p;
};

struct bl_hwdb_puck {
	int id;
	size_t nslots;
	struct bl_point slots[BL_HWDB_MAX_SLOTS];
};

struct bl_hwdb_robot {
	char device[BL_HWDB_NAME_MAX];
	int robot_number;   /* robot of the controller ($SetMotorsOn,<n>) */
	char password[32];  /* RC+ remote password ("" when the controller asks none) */
	int gripper_output; /* output bit that closes the gripper */
	int gripper_sensor; /* input bit reading 1 with a sample in the gripper, -1 when none */
	int stage_sensor;   /* input bit reading 1 with a sample on the stage, -1 when none */
	double speed_pct;
	double accel_pct;
	double approach_mm; /* height of the approach point above each station */
	size_t nsafe;
	struct bl_named_point safe_poses[BL_HWDB_MAX_POSES];
	struct bl_point barcode_station;
	struct bl_point stage;
	size_t npucks;
	struct bl_hwdb_puck pucks[BL_HWDB_MAX_PUCKS];
};

struct bl_hwdb_barcode {
	char device[BL_HWDB_NAME_MAX];
	char pattern[96]; /* POSIX extended regular expression a valid code must match */
	enum bl_check_digit check_digit;
	int retries;
};

struct bl_hwdb_printer {
	char pump[BL_HWDB_NAME_MAX];
	char coater[BL_HWDB_NAME_MAX];
	char web[BL_HWDB_NAME_MAX];
	size_t nheaters;
	char heaters[BL_HWDB_MAX_HEATERS][BL_HWDB_NAME_MAX];
	double syringe_diameter_mm;
	struct bl_range flow_ul_min;
	struct bl_range coat_speed_mm_s;
	struct bl_range web_speed_mm_s;
	struct bl_range temperature_c;
	struct bl_range gap_um;
	struct bl_range coater_travel_mm;
};

struct bl_hwdb_geometry {
	char device[BL_HWDB_NAME_MAX];
	double distance_mm;
	double beam_center_x_px, beam_center_y_px;
	double wavelength_nm;
	double incidence_deg;
	double
	    tilt_deg; /* detector tilt about the axis given by tilt_plane_deg (Fit2D convention) */
	double tilt_plane_deg;
	double count_time_s; /* default exposure */
};

struct bl_hwdb_trigger {
	char device[BL_HWDB_NAME_MAX];
	int detector_channel;
	double width_us;
};

struct bl_hwdb_interlock {
	char name[BL_HWDB_NAME_MAX];
	char source[BL_HWDB_NAME_MAX]; /* device that reads the input */
	int input;
	bool active_high;
	enum bl_interlock_action action;
};

struct bl_hwdb {
	char beamline[BL_HWDB_NAME_MAX];
	char description[BL_HWDB_TEXT_MAX];
	char file[BL_HWDB_PATH_MAX];
	size_t nmodels;
	struct bl_hwdb_model models[BL_HWDB_MAX_MODELS];
	size_t ndevices;
	struct bl_hwdb_device devices[BL_HWDB_MAX_DEVICES];
	struct bl_hwdb_robot robot;
	struct bl_hwdb_barcode barcode;
	struct bl_hwdb_printer printer;
	struct bl_hwdb_geometry detector;
	struct bl_hwdb_trigger trigger;
	size_t ninterlocks;
	struct bl_hwdb_interlock interlocks[BL_HWDB_MAX_INTERLOCKS];
};

/* Problems found while loading, each "FILE:LINE: KEY: message". */
struct bl_hwdb_errors {
	size_t count;	/* all problems found */
	size_t dropped; /* problems beyond BL_HWDB_MAX_ERRORS that were counted but not kept */
	char msg[BL_HWDB_MAX_ERRORS][BL_HWDB_PATH_MAX + 192];
};

/* Loads a beamline file (and the model files and base file it names). Returns 0 and a new
 * description in *OUT, or -EINVAL with every problem in ERRS (-ENOMEM on allocation failure). */
int bl_hwdb_load(const char *path, struct bl_hwdb **out, struct bl_hwdb_errors *errs);

/* Loads a single model file into MODEL. Same error convention as bl_hwdb_load. */
int bl_hwdb_load_model(const char *path, struct bl_hwdb_model *model, struct bl_hwdb_errors *errs);

void bl_hwdb_free(struct bl_hwdb *db);

/* Writes each kept problem of ERRS on its own line, then a count of those not kept. */
void bl_hwdb_print_errors(const struct bl_hwdb_errors *errs, FILE *out);

/* Looks a device up by name; NULL if there is none. */
const struct bl_hwdb_device *bl_hwdb_device(const struct bl_hwdb *db, const char *name);

/* Writes the resolved description (models folded into devices, defaults filled in) as YAML. */
void bl_hwdb_show(const struct bl_hwdb *db, FILE *out);

const char *bl_hwdb_class_name(enum bl_dev_class cls);
const char *bl_hwdb_protocol_name(enum bl_protocol proto);
const char *bl_hwdb_transport_name(enum bl_transport_kind kind);

#endif
