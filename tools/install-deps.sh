#!/usr/bin/env bash
# install-deps.sh: installs every Debian 12 package beamloop needs to build, run and test (idempotent).
set -euo pipefail

# One line per purpose, so a reader can see why each package is here.
PKGS=(
  # toolchain
  build-essential cmake pkg-config ninja-build clang-format git
  # device transports
  libmodbus-dev libserialport-dev libusb-1.0-0-dev socat
  # messaging, storage, config
  libzmq3-dev libsodium-dev libhdf5-dev hdf5-tools libsqlite3-dev sqlite3 libyaml-dev libcjson-dev
  # compression of detector frames
  liblz4-dev bitshuffle libmd-dev
  # numerics and analysis service
  libgsl-dev libfftw3-dev libopenmpi-dev openmpi-bin
  # HTTP (detector REST, dashboard)
  libmicrohttpd-dev libcurl4-openssl-dev
  # protocol peers the tests check against (servers this project did not write)
  python3 python3-pymodbus python3-serial python3-serial-asyncio
  # peer readers of the agent's NeXus files (h5py with Debian's bitshuffle plugin, silx)
  python3-h5py python3-silx
  # peer for the reduction kernels' accuracy tests and benchmark (pyFAI)
  python3-pyfai
  # the main job's report folder (PNG plots from the NeXus files)
  python3-matplotlib
  # peer for the GISAXS forward model's accuracy tests and benchmark (BornAgain)
  python3-bornagain
  # peer baseline for the controller loop benchmark (cyclictest)
  rt-tests
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh package lists when they are absent or older than a day.
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
  apt-get update -q
fi
echo "install-deps: installing ${missing[*]}"
apt-get install -y -q --no-install-recommends "${missing[@]}"
