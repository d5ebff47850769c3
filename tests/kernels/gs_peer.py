#!/usr/bin/python3
"""gs_peer.py: BornAgain (python3-bornagain 1.19) peer of the GISAXS forward model.

Usage: gs_peer.py PARAMS OUT [THREADS]. PARAMS holds key=value lines (geometry and sample as
tests/kernels/test_gs_peer.c writes them); OUT gets nrows*ncols float64 intensities in our pixel
order (row-major, row 0 = lowest detector row, as bl_reduce_geometry's pixel rows). Prints the
simulation time (seconds, imports and setup excluded) on stdout. Exits 77 without BornAgain."""
import sys
import time

try:
    import bornagain as ba
    import numpy as np
except ImportError:
    sys.exit(77)


def read_params(path):
    p = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                k, v = line.split('=', 1)
                p[k.strip()] = v.strip()
    return p


def build_sample(p):
    f = lambda k, d=0.0: float(p.get(k, d))
    vac = ba.HomogeneousMaterial("Ambient", f('amb_delta'), f('amb_beta'))
    sub = ba.HomogeneousMaterial("Substrate", f('sub_delta'), f('sub_beta'))
    mat = ba.HomogeneousMaterial("Particle", f('par_delta'), f('par_beta'))
    shape = p['shape']
    if shape == 'cylinder':
        ff, pname = ba.FormFactorCylinder(f('radius'), f('height')), 'Cylinder/Radius'
    elif shape == 'sphere':
        ff, pname = ba.FormFactorFullSphere(f('radius')), 'FullSphere/Radius'
    elif shape == 'box':
        ff, pname = ba.FormFactorBox(f('length'), f('width'), f('height')), 'Box/Length'
    elif shape == 'cone':
        ff, pname = ba.FormFactorCone(f('radius'), f('height'), f('cone_angle') * ba.deg), \
            'Cone/Radius'
    else:
        raise ValueError(shape)
    particle = ba.Particle(mat, ff)
    if f('rotation') != 0:
        particle.setRotation(ba.RotationZ(f('rotation') * ba.deg))
    embedded = f('film_thickness') > 0 and int(f('particle_layer')) == 1
    if embedded:
        # BornAgain places a (non-top) layer's particles relative to its top interface
        particle.setPosition(0, 0, -f('depth'))
    layout = ba.ParticleLayout()
    if f('sigma') > 0:
        distr = ba.DistributionGaussian(f('radius' if shape != 'box' else 'length'), f('sigma'))
        par = ba.ParameterDistribution('/Particle/' + pname, distr, int(f('npoints')),
                                       f('sigma_factor'))
        layout.addParticle(ba.ParticleDistribution(particle, par), 1.0)
    else:
        layout.addParticle(particle, 1.0)
    sf = p.get('sf', 'none')
    lat = None
    if sf in ('para2d', 'lattice2d'):
        lat = (ba.HexagonalLattice2D if p['lattice'] == 'hex' else ba.SquareLattice2D)(
            f('spacing'), f('xi') * ba.deg)
    if sf == 'radial':
        iff = ba.InterferenceFunctionRadialParaCrystal(f('spacing'), f('damping'))
        iff.setProbabilityDistribution(ba.FTDistribution1DGauss(f('omega')))
    elif sf == 'para2d':
        iff = ba.InterferenceFunction2DParaCrystal(lat, f('damping'), f('domain'), f('domain'))
        iff.setProbabilityDistributions(ba.FTDistribution2DGauss(f("omega"), f("omega"), 0.0),
                                        ba.FTDistribution2DGauss(f("omega"), f("omega"), 0.0))
    elif sf == 'lattice2d':
        iff = ba.InterferenceFunction2DLattice(lat)
        iff.setDecayFunction(ba.FTDecayFunction2DGauss(f('decay'), f('decay'), 0))
    else:
        iff = None
    if iff is not None:
        if f('dw') > 0:
            iff.setPositionVariance(f('dw') ** 2)
        layout.setInterferenceFunction(iff)
    if sf in ('none', 'radial'):
        layout.setTotalParticleSurfaceDensity(f('density'))
    top = ba.Layer(vac)
    ml = ba.MultiLayer()
    if f('film_thickness') > 0:
        film = ba.Layer(ba.HomogeneousMaterial("Film", f('film_delta'), f('film_beta')),
                        f('film_thickness'))
        if int(f('particle_layer')) == 1:
            film.addLayout(layout)
        else:
            top.addLayout(layout)
        ml.addLayer(top)
        ml.addLayer(film)
    else:
        top.addLayout(layout)
        ml.addLayer(top)
    ml.addLayer(ba.Layer(sub))
    return ml


def main():
    p = read_params(sys.argv[1])
    f = lambda k: float(p[k])
    nr, nc = int(p['nrows']), int(p['ncols'])
    pix = f('pixel_um') / 1000.0
    # Untilted flat detector perpendicular to the direct beam: BornAgain's u runs along our
    # columns and v along our rows, both from the detector's lower-left pixel corner (mm).
    det = ba.RectangularDetector(nc, nc * pix, nr, nr * pix)
    det.setPerpendicularToDirectBeam(f('distance_mm'), f('bcx') * pix, f('bcy') * pix)
    sim = ba.GISASSimulation()
    sim.setDetector(det)
    sim.setBeamParameters(f('wavelength_nm') * ba.nm, f('ai_deg') * ba.deg, 0.0)
    sim.setSample(build_sample(p))
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if threads > 0:
        sim.getOptions().setNumberOfThreads(threads)
    t0 = time.perf_counter()
    sim.runSimulation()
    arr = sim.result().array()
    dt = time.perf_counter() - t0
    # result().array() puts the highest v (top detector row) first: flip to our row order
    out = np.ascontiguousarray(np.flipud(np.asarray(arr, dtype=np.float64)))
    if out.shape != (nr, nc):
        sys.exit('unexpected shape %s' % (out.shape,))
    out.tofile(sys.argv[2])
    print('%.6f' % dt)


if __name__ == '__main__':
    main()
