#!/usr/bin/python3
"""Look at a workbook as a person does: LibreOffice Calc under Xvfb, saved as PNG screenshots.

Run with the system Python (it has the ``uno`` module), not a virtualenv's::

    /usr/bin/python3 tests/look/look.py WORKBOOK.xlsx OUTDIR [--sheets S1,S2]
        [--dropdown SHEET!CELL ...] [--cell SHEET!CELL ...] [--size 1366x768]

It starts its own Xvfb on a free display and a LibreOffice with a fresh, throw-away user profile, opens a
temporary copy of the workbook (the original is never touched), and writes one full-screen PNG per visible sheet,
per opened validation dropdown and per selected cell (with the mouse hovering over it, so a comment shows).
Everything it started is stopped at the end, also on error.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import uno
    from com.sun.star.beans import PropertyValue
except ImportError:  # pragma: no cover - depends on the interpreter
    sys.exit("look.py needs the 'uno' module: run it with /usr/bin/python3 (Debian package python3-uno)")

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
FIRST_DISPLAY = 97
SETTLE_SECONDS = 1.0

# Settings for the throw-away profile: no tip of the day, no first-start wizard, no "what's new" or
# "get involved" infobars, no update check, no autosave or recovery prompts, and no red spelling squiggles
# (a LibreOffice habit, not part of the workbook).
REGISTRY_ITEMS = [
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "boolean", "false"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "boolean", "false"),
    ("/org.openoffice.Office.Common/Misc", "LastTimeGetInvolvedShown", "long", "9999999999"),
    ("/org.openoffice.Office.Common/Misc", "LastTimeDonateShown", "long", "9999999999"),
    ("/org.openoffice.Office.Common/Misc", "UseSystemFileDialog", "boolean", "false"),
    ("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "boolean", "true"),
    ("/org.openoffice.Setup/Office", "FirstStartWizardCompleted", "boolean", "true"),
    ("/org.openoffice.Office.Linguistic/SpellChecking", "IsSpellAuto", "boolean", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "boolean", "false"),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "boolean", "false"),
    ("/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments",
     "AutoCheckEnabled", "boolean", "false"),
]


@dataclass(frozen=True)
class CellRef:
    """A cell on a named sheet, as given on the command line (``Sheet!C3`` or ``'My sheet'!C3``)."""

    sheet: str
    cell: str

    @classmethod
    def parse(cls, text: str) -> CellRef:
        """Split ``SHEET!CELL`` at the last ``!``; quotes around the sheet name are dropped."""
        sheet, sep, cell = text.rpartition("!")
        if not sep or not sheet or not re.fullmatch(r"\$?[A-Za-z]{1,3}\$?[0-9]+", cell):
            raise argparse.ArgumentTypeError(f"expected SHEET!CELL such as Datasets!C3, got {text!r}")
        if len(sheet) > 1 and sheet[0] == sheet[-1] == "'":
            sheet = sheet[1:-1].replace("''", "'")
        return cls(sheet, cell.replace("$", "").upper())


@dataclass
class Session:
    """What is running: the X server, LibreOffice, the UNO objects and the shot counter."""

    display: str
    width: int
    height: int
    outdir: Path
    ctx: Any = None
    doc: Any = None
    shots: int = 0

    def service(self, name: str) -> Any:
        """Create the UNO service ``name`` inside LibreOffice."""
        return self.ctx.ServiceManager.createInstanceWithContext(name, self.ctx)

    @property
    def desktop(self) -> Any:
        """LibreOffice's ``com.sun.star.frame.Desktop``."""
        return self.service("com.sun.star.frame.Desktop")


# ---------------------------------------------------------------- processes


def free_display(first: int = FIRST_DISPLAY) -> int:
    """Return the first X display number from ``first`` on that has neither a lock file nor a socket."""
    for number in range(first, first + 100):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number found")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``args`` in a new process group, its output thrown away."""
    return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """Stop ``proc`` and its whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def xvfb(width: int, height: int) -> Iterator[str]:
    """Run an Xvfb of ``width`` x ``height`` on a free display; yield its name, e.g. ``:97``."""
    number = free_display()
    proc = spawn(["Xvfb", f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-dpi", "96"])
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb :{number} did not start")
            time.sleep(0.1)
        yield f":{number}"
    finally:
        stop(proc)


def write_profile(root: Path) -> str:
    """Write a fresh LibreOffice user profile under ``root``; return its ``file://`` URL."""
    user = root / "user"
    user.mkdir(parents=True)
    items = [f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
             for path, name, _type, value in REGISTRY_ITEMS]
    last_version = libreoffice_version()
    if last_version:
        items.append('<item oor:path="/org.openoffice.Setup/Product"><prop oor:name="ooSetupLastVersion" '
                     f'oor:op="fuse"><value>{last_version}</value></prop></item>')
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' + "\n".join(items) + "\n</oor:items>\n",
        encoding="utf-8")
    return root.as_uri()


def libreoffice_version() -> str:
    """Return the installed LibreOffice's ``major.minor`` (e.g. ``7.4``), or "" if it cannot be told."""
    try:
        out = subprocess.run([SOFFICE, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"LibreOffice (\d+\.\d+)", out)
    return match.group(1) if match else ""


@contextmanager
def libreoffice(display: str, workdir: Path) -> Iterator[Any]:
    """Run LibreOffice Calc on ``display`` with a fresh profile; yield its remote UNO component context."""
    port = free_port()
    profile = write_profile(workdir / "profile")
    env = {**os.environ, "DISPLAY": display, "SAL_USE_VCLPLUGIN": "gen"}
    proc = spawn([SOFFICE, "--calc", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                  f"-env:UserInstallation={profile}",
                  f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"], env)
    ctx = None
    try:
        ctx = connect(port, proc)
        yield ctx
    finally:
        if ctx is not None:
            with suppress(Exception):
                ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx).terminate()
        stop(proc)


def connect(port: int, proc: subprocess.Popen, timeout: float = 90) -> Any:
    """Connect to LibreOffice over UNO on ``port``; return its component context."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except Exception:  # noqa: BLE001 - NoConnectException until soffice listens
            if proc.poll() is not None:
                raise RuntimeError(f"soffice exited with code {proc.returncode} before accepting UNO") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not connect to soffice on port {port}") from None
            time.sleep(0.5)


# ---------------------------------------------------------------- UNO helpers


def props(**values: Any) -> tuple:
    """Build a tuple of ``PropertyValue`` from keyword arguments."""
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


def settle(session: Session, seconds: float = SETTLE_SECONDS) -> None:
    """Let LibreOffice finish painting: process its pending events, then wait ``seconds``."""
    with suppress(Exception):
        toolkit = session.desktop.getCurrentFrame().getContainerWindow().getToolkit()
        toolkit.processEventsToIdle()
    time.sleep(seconds)


def open_workbook(session: Session, path: Path) -> None:
    """Open ``path`` in a visible window filling the screen."""
    session.doc = session.desktop.loadComponentFromURL(path.resolve().as_uri(), "_blank", 0, props(Hidden=False))
    if session.doc is None:
        raise RuntimeError(f"LibreOffice could not open {path}")
    window = session.doc.getCurrentController().getFrame().getContainerWindow()
    window.setPosSize(0, 0, session.width, session.height, 15)  # 15 = PosSize.POSSIZE; there is no window manager
    with suppress(Exception):
        window.IsMaximized = True
    window.setVisible(True)
    window.setFocus()
    settle(session, 2.0)


def sheet_by_name(session: Session, name: str) -> Any:
    """Return the sheet called ``name``, or raise with the names there are."""
    sheets = session.doc.getSheets()
    if not sheets.hasByName(name):
        raise SystemExit(f"no sheet {name!r}; the workbook has {list(sheets.getElementNames())}")
    return sheets.getByName(name)


def select(session: Session, sheet_name: str, cell: str) -> Any:
    """Activate ``sheet_name``, select ``cell`` on it and return the cell."""
    sheet = sheet_by_name(session, sheet_name)
    controller = session.doc.getCurrentController()
    controller.setActiveSheet(sheet)
    target = sheet.getCellRangeByName(cell)
    controller.select(target)
    return target



def dispatch(session: Session, command: str) -> None:
    """Run a ``.uno:`` command on the document's frame, as a menu item or a key would."""
    frame = session.doc.getCurrentController().getFrame()
    session.service("com.sun.star.frame.DispatchHelper").executeDispatch(frame, command, "", 0, ())


def find_accessible(acc: Any, want: Any, depth: int = 0) -> Any:
    """Depth-first search of the accessibility tree under ``acc`` for the first context where ``want(ctx)``."""
    ctx = acc.getAccessibleContext()
    if want(ctx):
        return ctx
    if depth > 12:
        return None
    for index in range(min(ctx.getAccessibleChildCount(), 200)):
        found = find_accessible(ctx.getAccessibleChild(index), want, depth + 1)
        if found is not None:
            return found
    return None


def cell_box(session: Session, cell: Any) -> tuple[int, int, int, int] | None:
    """Return the on-screen ``(x, y, width, height)`` of ``cell`` in pixels, read from the accessibility tree."""
    address = cell.getCellAddress()
    window = session.doc.getCurrentController().getFrame().getContainerWindow()
    try:
        grid = find_accessible(window, lambda ctx: hasattr(ctx, "getAccessibleCellAt") and ctx.getAccessibleRowCount() > 1)
        if grid is None:
            return None
        acc_cell = grid.getAccessibleCellAt(address.Row, address.Column).getAccessibleContext()
        point, size = acc_cell.getLocationOnScreen(), acc_cell.getSize()
    except Exception:  # noqa: BLE001 - accessibility is a best effort
        return None
    return point.X, point.Y, size.Width, size.Height


def xdotool(session: Session, *args: str) -> None:
    """Run ``xdotool`` on the session's display."""
    subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": session.display}, check=False, timeout=30)


def click(session: Session, cell: Any) -> bool:
    """Click the middle of ``cell`` and leave the pointer resting on it; return whether the cell was found on screen.

    The click (not only the UNO selection) is what makes Calc show the cell's validation input help and its
    dropdown button; the pointer moving onto the cell after the click is what shows its comment.
    """
    box = cell_box(session, cell)
    if box is None:
        return False
    x, y, width, height = box
    xdotool(session, "mousemove", str(x + width // 2 - 3), str(y + height // 2), "click", "1")
    time.sleep(0.3)
    xdotool(session, "mousemove", str(x + width // 2), str(y + height // 2))
    return True


def park_mouse(session: Session) -> None:
    """Move the mouse pointer to the bottom-right corner, out of the way of the cells."""
    xdotool(session, "mousemove", str(session.width - 1), str(session.height - 1))


# ---------------------------------------------------------------- screenshots


def safe_name(text: str) -> str:
    """Turn ``text`` into a file-name part: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "sheet"


def screenshot(session: Session, label: str) -> Path:
    """Save the whole screen as ``OUTDIR/NN-label.png`` and return its path."""
    session.shots += 1
    path = session.outdir / f"{session.shots:02d}-{label}.png"
    env = {**os.environ, "DISPLAY": session.display}
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=60)
    print(path, flush=True)
    return path


def put_cursor(session: Session, ref: CellRef) -> None:
    """Bring ``ref`` into view with UNO, then click it; warn if it cannot be found on screen to click."""
    cell = select(session, ref.sheet, ref.cell)
    settle(session, 0.5)
    if not click(session, cell):
        park_mouse(session)
        print(f"note: could not find where {ref.sheet}!{ref.cell} is on screen; it is selected but not clicked",
              file=sys.stderr)


def shoot_sheet(session: Session, name: str) -> Path:
    """Show sheet ``name`` scrolled to A1 with the cell cursor on A1, the mouse out of the way, and screenshot it."""
    put_cursor(session, CellRef(name, "A1"))
    park_mouse(session)
    settle(session)
    return screenshot(session, safe_name(name))


def shoot_dropdown(session: Session, ref: CellRef) -> Path:
    """Click ``ref``, open its validation dropdown list (Alt+Down in Calc) and screenshot it."""
    put_cursor(session, ref)
    settle(session, 0.5)
    dispatch(session, ".uno:DataSelect")
    settle(session)
    path = screenshot(session, f"dropdown-{safe_name(ref.sheet)}-{ref.cell}")
    xdotool(session, "key", "Escape")
    settle(session, 0.3)
    return path


def shoot_cell(session: Session, ref: CellRef) -> Path:
    """Click ``ref`` and leave the mouse on it, so its comment or input help shows, and screenshot it."""
    put_cursor(session, ref)
    settle(session, 1.5)
    path = screenshot(session, f"cell-{safe_name(ref.sheet)}-{ref.cell}")
    park_mouse(session)
    return path


def sheets_to_shoot(session: Session, wanted: list[str] | None) -> list[str]:
    """Return the sheets to screenshot: the visible ones by default, else ``wanted`` (hidden ones are unhidden)."""
    sheets = session.doc.getSheets()
    if wanted is None:
        names = list(sheets.getElementNames())
        for name in names:
            if not sheets.getByName(name).IsVisible:
                print(f"note: sheet {name!r} is hidden; skipped (name it in --sheets to see it)", file=sys.stderr)
        return [name for name in names if sheets.getByName(name).IsVisible]
    for name in wanted:
        sheet = sheet_by_name(session, name)
        if not sheet.IsVisible:
            print(f"note: sheet {name!r} is hidden; unhidden in the temporary copy to show it", file=sys.stderr)
            sheet.IsVisible = True
    return wanted


# ---------------------------------------------------------------- main


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT``."""
    match = re.fullmatch(r"(\d{3,5})x(\d{3,5})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1366x768, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workbook", type=Path, help="the .xlsx (or .ods, .xls) to look at")
    parser.add_argument("outdir", type=Path, help="folder for the PNGs (created if missing)")
    parser.add_argument("--sheets", type=lambda text: [s for s in text.split(",") if s],
                        help="comma-separated sheet names to show (default: every visible sheet; '' for none)")
    parser.add_argument("--dropdown", type=CellRef.parse, action="extend", nargs="+", default=[], metavar="SHEET!CELL",
                        help="open the validation dropdown of this cell and screenshot it (repeatable)")
    parser.add_argument("--cell", type=CellRef.parse, action="extend", nargs="+", default=[], metavar="SHEET!CELL",
                        help="select this cell with the mouse over it (comment, input help) and screenshot it")
    parser.add_argument("--size", type=parse_size, default=(1366, 768), metavar="WxH", help="screen size (1366x768)")
    args = parser.parse_args(argv)
    if not args.workbook.is_file():
        parser.error(f"no such file: {args.workbook}")
    return args


def run(args: argparse.Namespace, workdir: Path) -> list[Path]:
    """Start Xvfb and LibreOffice, take every screenshot asked for, and return their paths."""
    copy = workdir / f"look-copy{args.workbook.suffix}"
    shutil.copyfile(args.workbook, copy)
    args.outdir.mkdir(parents=True, exist_ok=True)
    width, height = args.size
    shots: list[Path] = []
    with xvfb(width, height) as display, libreoffice(display, workdir) as ctx:
        session = Session(display, width, height, args.outdir, ctx)
        open_workbook(session, copy)
        for name in sheets_to_shoot(session, args.sheets):
            shots.append(shoot_sheet(session, name))
        for ref in args.dropdown:
            shots.append(shoot_dropdown(session, ref))
        for ref in args.cell:
            shots.append(shoot_cell(session, ref))
    return shots


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse the arguments, run in a temporary folder that is removed afterwards."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="look-") as workdir:
        shots = run(args, Path(workdir))
    print(f"{len(shots)} screenshot(s) in {args.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
