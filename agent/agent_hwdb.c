/* agent_hwdb.c: the agent's static metadata (geometry, detector model, stream endpoint) from the
 * beamline description. */
#include <errno.h>
#include <stdio.h>

#include "bl_agent.h"
#include "bl_hwdb.h"

int bl_agent_geometry_from_hwdb(const struct bl_hwdb *db, const char *device,
				struct bl_nx_static *s, const char **stream, char *err,
				size_t errsz)
{
	const char *name = device ? device : db->detector.device;
	const struct bl_hwdb_device *dev = bl_hwdb_device(db, name);
	if (!dev || !dev->model) {
		snprintf(err, errsz, "no detector device '%s' in the hwdb", name);
		return -ENOENT;
	}
	const struct bl_hwdb_detector_model *m = &dev->model->detector;
	const struct bl_hwdb_geometry *g = &db->detector;
	snprintf(s->beamline, sizeof(s->beamline), "%s", db->beamline);
	snprintf(s->source, sizeof(s->source), "%.63s", db->description);
	snprintf(s->detector, sizeof(s->detector), "%s %s", dev->model->vendor, dev->model->name);
	s->distance_m = g->distance_mm * 1e-3;
	s->x_pixel_m = m->pixel_x_um * 1e-6;
	s->y_pixel_m = m->pixel_y_um * 1e-6;
	s->beam_x_px = g->beam_center_x_px;
	s->beam_y_px = g->beam_center_y_px;
	s->wavelength_A = g->wavelength_nm * 10.0;
	s->incidence_deg = g->incidence_deg;
	s->width = m->width;
	s->height = m->height;
	if (stream && !*stream)
		*stream = dev->stream;
	return 0;
}
