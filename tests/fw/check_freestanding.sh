#!/bin/sh
# check_freestanding.sh: proves the controller core is freestanding: it needs nothing but its HAL.
#
# usage: check_freestanding.sh CC AR NM CORE_DIR WORK_DIR
#
# Compiles every CORE_DIR/*.c with -ffreestanding -nostdlib -fno-builtin -Wall -Wextra -Werror at
# -O0, -O2 and -Os (compilers may emit memset / memcpy calls for struct copies or loops, and
# whether they do depends on the level), with -nostdinc so that only the compiler's own
# <stdint.h> <stddef.h> <stdbool.h> are reachable, and fails when:
#   - a file includes anything outside CORE_DIR except those three headers;
#   - the static library of the objects has an undefined symbol not declared in CORE_DIR/hal/*.h.
# The allowed symbols are derived from the HAL headers: every `bl_hal_NAME(` written there.
# -fno-stack-protector: a toolchain that enables the stack protector by default would otherwise
# add __stack_chk_fail, which is the port's business, not the core's.
set -u

if [ $# -ne 5 ]; then
	echo "usage: $0 CC AR NM CORE_DIR WORK_DIR" >&2
	exit 2
fi
cc=$1
ar=$2
nm=$3
core=$(cd "$4" && pwd -P) || exit 2
work=$5

fail=0
complain()
{
	echo "check_freestanding: $*"
	fail=1
}

rm -rf "$work" && mkdir -p "$work" || exit 2

allowed=$(grep -ho 'bl_hal_[A-Za-z0-9_]*[[:space:]]*(' "$core"/hal/*.h 2>/dev/null |
	sed 's/[[:space:]]*($//' | sort -u)
if [ -z "$allowed" ]; then
	complain "no bl_hal_* functions found in $core/hal/*.h"
	exit 1
fi
echo "HAL functions allowed as undefined symbols:" $allowed
printf '%s\n' "$allowed" >"$work/allowed.txt"

ccinc=$("$cc" -print-file-name=include)
ccinc=$(cd "$ccinc" && pwd -P) || exit 2

set -- "$core"/*.c
if [ ! -e "$1" ]; then
	complain "no .c files in $core"
	exit 1
fi

for opt in -O0 -O2 -Os; do
	dir="$work/$opt"
	mkdir -p "$dir"
	objs=
	for src in "$@"; do
		name=$(basename "$src" .c)
		if ! "$cc" -std=c11 $opt -ffreestanding -nostdlib -fno-builtin -fno-stack-protector \
			-nostdinc -isystem "$ccinc" -Wall -Wextra -Werror \
			-MD -MF "$dir/$name.d" -c "$src" -o "$dir/$name.o"; then
			complain "$src does not compile freestanding ($opt)"
			continue
		fi
		objs="$objs $dir/$name.o"
		# Every header it read must be the core's own or one of the three allowed ones.
		for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$dir/$name.d"); do
			real=$(cd "$(dirname "$dep")" && pwd -P)/$(basename "$dep")
			case "$real" in
			"$src") ;;
			"$core"/*) ;;
			# The compiler's own three, and the parts they are split into (gcc, clang).
			"$ccinc"/stdint.h | "$ccinc"/stdint-gcc.h | "$ccinc"/stddef.h | "$ccinc"/stdbool.h) ;;
			"$ccinc"/__stddef_*.h) ;;
			*) complain "$src ($opt) includes $real: only <stdint.h> <stddef.h>" \
				"<stdbool.h> and the core's own headers are allowed" ;;
			esac
		done
	done
	[ -n "$objs" ] || continue
	lib="$dir/libcore_freestanding.a"
	"$ar" rcs "$lib" $objs || exit 2
	"$nm" --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u >"$dir/defined.txt"
	# Lines "LIB:OBJECT: U SYMBOL", kept as "SYMBOL OBJECT".
	"$nm" -A --undefined-only "$lib" | awk '{ n = split($1, p, ":"); print $NF, p[n - 1] }' |
		sort -u >"$dir/undefined.txt"
	# Undefined in some object and defined in none, less the HAL.
	for sym in $(cut -d' ' -f1 "$dir/undefined.txt" | sort -u | comm -23 - "$dir/defined.txt" |
		comm -23 - "$work/allowed.txt"); do
		users=$(awk -v s="$sym" '$1 == s { print $2 }' "$dir/undefined.txt" | paste -sd' ')
		complain "undefined symbol outside the HAL ($opt): $sym (used by $users)"
	done
done

if [ $fail -ne 0 ]; then
	echo "check_freestanding: FAILED for $core"
	exit 1
fi
echo "check_freestanding: $core is freestanding ($# files, -O0 -O2 -Os)"
exit 0
