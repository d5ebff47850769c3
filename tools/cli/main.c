/* main.c: the `beamloop` command line: dispatches `beamloop <area> <verb> ...` to its handler. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct bl_cli_cmd cmds[] = {
    {"hwdb", "check FILE... | show FILE   validate or print beamline descriptions", bl_cli_hwdb},
    {"run", "[--hwdb FILE]                start the virtual beamline and show what is there",
     bl_cli_run},
    {"robot", "[--port N] status|motors on|reset|safe|pick P S|barcode|place|return P S|cycle P S",
     bl_cli_robot},
    {"barcode", "read [--device NAME] [--port PATH]  one read from a barcode reader",
     bl_cli_barcode},
    {"pump", "[--port PATH] status|dia|rate|volume|infuse|withdraw|run|stop|send ...", bl_cli_pump},
    {"modbus", "[--port N|--link PATH] read DEV REG | write DEV REG VALUE | dump DEV",
     bl_cli_modbus},
    {"trigger", "[--port N] ping|time|status|edges|stop CH|arm CH DELAY_MS PERIOD_MS COUNT",
     bl_cli_trigger},
    {"detector", "[--port N] status|get KEY|set KEY V|arm|trigger|disarm|abort|series N",
     bl_cli_detector},
    {"fw", "status|ping|loop|queue N..|scan P|pause|resume|abort|reset|resolve|print|call|keygen",
     bl_cli_fw},
    {"reduce", "FILE [--bins N] [--unit q|2th] [--split none|bbox] [--mask FILE] [--peaks]",
     bl_cli_reduce},
    {"info", "                            build facts: kernels backends, GPUs", bl_cli_info},
};

static void usage(FILE *o)
{
	fputs("usage: beamloop <command> [args]\n\ncommands:\n", o);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(o, "  %-8s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "beamloop: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
