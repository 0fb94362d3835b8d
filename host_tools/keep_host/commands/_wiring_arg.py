"""--wiring, shared by keep check, deploy and build."""


def add_wiring(p):
    p.add_argument("--wiring", metavar="board|FILE",
                   help="compile the manifest with a wiring overlay: `board` maps the rig the "
                        "app was written for (its manifest's board's [test_wiring] and LED) onto "
                        "the target board's own; FILE is an overlay with a board file's "
                        "[test_wiring] and [pins] led (docs/manifest.md, Wiring overlays)")
