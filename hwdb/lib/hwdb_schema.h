/* hwdb_schema.h: the schemas of hwdb model and beamline files, and their enum names. */
#ifndef BL_HWDB_SCHEMA_H
#define BL_HWDB_SCHEMA_H

#include "schema.h"

extern const struct bl_schema bl_model_schema;
extern const struct bl_schema bl_beamline_schema;
extern const struct bl_schema bl_transport_schema;
extern const char *const bl_class_names[];
extern const char *const bl_protocol_names[];
extern const char *const bl_transport_names[];

#endif
