# BlDeps.cmake: finds the libraries beamloop builds on (tools/install-deps.sh installs them all).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# CUDA: optional; without nvcc the kernels build CPU-only.
set(BL_HAVE_CUDA OFF)
if(BL_WITH_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Hopper (H100/H200) plus Ampere (A100) and Ada (L4/L40); override with -DCMAKE_CUDA_ARCHITECTURES.
      set(CMAKE_CUDA_ARCHITECTURES 80 89 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(BL_HAVE_CUDA ON)
    message(STATUS "beamloop: CUDA ${CMAKE_CUDA_COMPILER_VERSION} for sm ${CMAKE_CUDA_ARCHITECTURES}")
  else()
    message(STATUS "beamloop: nvcc not found, analysis kernels are CPU-only")
  endif()
endif()

find_package(OpenMP COMPONENTS C)

if(BL_KERNELS_ONLY)
  return()
endif()

pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(MODBUS REQUIRED IMPORTED_TARGET libmodbus)
pkg_check_modules(SERIALPORT REQUIRED IMPORTED_TARGET libserialport)
pkg_check_modules(USB REQUIRED IMPORTED_TARGET libusb-1.0)
pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(GSL REQUIRED IMPORTED_TARGET gsl)
pkg_check_modules(FFTW REQUIRED IMPORTED_TARGET fftw3)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
find_package(HDF5 REQUIRED COMPONENTS C)

# MPI: optional at configure time; the analysis service needs it, everything else does not.
find_package(MPI COMPONENTS C)
if(MPI_C_FOUND)
  set(BL_HAVE_MPI ON)
  message(STATUS "beamloop: MPI ${MPI_C_VERSION} found")
else()
  set(BL_HAVE_MPI OFF)
  message(STATUS "beamloop: MPI not found, the analysis service is not built")
endif()

# bitshuffle: Debian's `bitshuffle` package installs only the HDF5 filter plugin libh5bshuf.so
# (no header, no pkg-config file, no SONAME); it exports bshuf_compress_lz4 & co. Found by full
# path here; drivers/detector links it with an rpath and declares what it calls in bshuf.h.
find_library(BSHUF_LIBRARY NAMES h5bshuf
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/hdf5/serial/plugins /usr/lib/hdf5/serial/plugins
  NO_DEFAULT_PATH)
if(NOT BSHUF_LIBRARY)
  message(FATAL_ERROR "beamloop: libh5bshuf.so (Debian package bitshuffle) not found")
endif()
get_filename_component(BSHUF_LIBRARY_DIR ${BSHUF_LIBRARY} DIRECTORY)
