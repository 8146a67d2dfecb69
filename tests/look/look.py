#!/usr/bin/python3
"""Look at a workbook as a person does: the real LibreOffice Calc window under Xvfb, saved as PNG screenshots.

Run it with the system Python, which has the ``uno`` module (Debian's python3-uno), not a virtualenv's::

    /usr/bin/python3 tests/look/look.py WORKBOOK.xlsx OUTDIR [--sheets S1,S2]
        [--dropdown SHEET!CELL ...] [--cell SHEET!CELL ...] [--size 1366x768]

It starts its own Xvfb on a free display and a LibreOffice with a fresh, throw-away user profile, opens a
temporary copy of the workbook (the original is never touched or locked) in a window filling the screen, and
writes full-screen PNGs: one per visible sheet (cell cursor on A1), one per opened validation dropdown, and one
per clicked cell with the mouse resting on it (so its comment and validation input help show). It prints the
path of each PNG. Xvfb and LibreOffice are stopped at the end, also on an error, Ctrl-C or SIGTERM.
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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for uno_edit's helpers
try:
    import uno
    from com.sun.star.uno import Exception as UnoException
    from uno_edit import props
except ImportError:  # pragma: no cover - depends on the interpreter
    sys.exit("look.py needs the 'uno' module: run it with /usr/bin/python3 (Debian package python3-uno)")

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
FIRST_DISPLAY = 97
SETTLE_SECONDS = 1.0
POSSIZE = 15  # com.sun.star.awt.PosSize.POSSIZE

# Settings of the throw-away profile: no tip of the day, no first-start wizard, no "what's new", "get involved"
# or "donate" infobars, no update check, no autosave or recovery prompts, and no red spelling squiggles (those
# are a LibreOffice setting, not part of the workbook, and Excel users do not see them).
REGISTRY_ITEMS = [
    ("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false"),
    ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
    ("/org.openoffice.Office.Common/Misc", "LastTimeGetInvolvedShown", "9999999999"),
    ("/org.openoffice.Office.Common/Misc", "LastTimeDonateShown", "9999999999"),
    ("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "true"),
    ("/org.openoffice.Setup/Office", "FirstStartWizardCompleted", "true"),
    ("/org.openoffice.Office.Linguistic/SpellChecking", "IsSpellAuto", "false"),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false"),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false"),
    ("/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments",
     "AutoCheckEnabled", "false"),
]

Box = tuple[int, int, int, int]  # x, y, width, height on the screen, in pixels


@dataclass(frozen=True)
class CellRef:
    """A cell on a named sheet, as given on the command line (``Sheet!C3`` or ``'My sheet'!C3``)."""

    sheet: str
    cell: str

    @classmethod
    def parse(cls, text: str) -> CellRef:
        """Split ``SHEET!CELL`` at the last ``!``; quotes around the sheet name and ``$`` signs are dropped."""
        sheet, sep, cell = text.rpartition("!")
        if not sep or not sheet or not re.fullmatch(r"\$?[A-Za-z]{1,3}\$?[0-9]+", cell):
            raise argparse.ArgumentTypeError(f"expected SHEET!CELL such as Datasets!C3, got {text!r}")
        if len(sheet) > 1 and sheet[0] == sheet[-1] == "'":
            sheet = sheet[1:-1].replace("''", "'")
        return cls(sheet, cell.replace("$", "").upper())

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass
class Office:
    """A running LibreOffice: its process (the leader of its own process group) and its remote UNO context."""

    proc: subprocess.Popen
    ctx: Any


@dataclass
class Session:
    """One look at one workbook: the display, the screen size, the office, the open document and the shot count."""

    display: str
    width: int
    height: int
    outdir: Path
    office: Office
    doc: Any = None
    shots: int = 0
    timed_out: bool = False

    def service(self, name: str) -> Any:
        """Create the UNO service ``name`` inside LibreOffice."""
        return self.office.ctx.ServiceManager.createInstanceWithContext(name, self.office.ctx)

    @property
    def desktop(self) -> Any:
        """LibreOffice's ``com.sun.star.frame.Desktop``."""
        return self.service("com.sun.star.frame.Desktop")

    @property
    def window(self) -> Any:
        """The document's top-level window."""
        return self.doc.getCurrentController().getFrame().getContainerWindow()


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
    """Start ``args`` as the leader of a new process group, its output thrown away."""
    return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def group_gone(pgid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for process group ``pgid`` to have no process left; return whether it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def stop(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """Stop ``proc`` and every process of its group: SIGTERM, then SIGKILL for what is left after ``grace`` s."""
    if proc is None:
        return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    if not group_gone(proc.pid, 0.5 if proc.poll() is not None else 0):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


@contextmanager
def xvfb(width: int, height: int, tries: int = 5) -> Iterator[str]:
    """Run an Xvfb of ``width`` x ``height`` on a free display; yield its name, e.g. ``:97``."""
    number = free_display()
    for _ in range(tries):
        proc = spawn(["Xvfb", f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-dpi", "96"])
        if wait_for_x(number, proc):
            break
        stop(proc)  # most likely another program took that display at the same moment: try the next free one
        number = free_display(number + 1)
    else:
        raise RuntimeError("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        stop(proc)


def wait_for_x(number: int, proc: subprocess.Popen, timeout: float = 20) -> bool:
    """Wait until the X server ``proc`` listens on display ``number``; return False if it exited or took too long."""
    deadline = time.monotonic() + timeout
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def libreoffice_version() -> str:
    """Return the installed LibreOffice's ``major.minor`` (e.g. ``7.4``), or "" if it cannot be told."""
    try:
        out = subprocess.run([SOFFICE, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"LibreOffice (\d+\.\d+)", out)
    return match.group(1) if match else ""


def write_profile(root: Path) -> str:
    """Write a fresh LibreOffice user profile under ``root`` with ``REGISTRY_ITEMS`` set; return its URL."""
    items = list(REGISTRY_ITEMS)
    version = libreoffice_version()
    if version:  # the "what's new" infobar shows when this is older than the running version
        items.append(("/org.openoffice.Setup/Product", "ooSetupLastVersion", version))
    lines = [f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
             for path, name, value in items]
    (root / "user").mkdir(parents=True)
    (root / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
        ' xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        + "\n".join(lines) + "\n</oor:items>\n", encoding="utf-8")
    return root.as_uri()


@contextmanager
def libreoffice(display: str, workdir: Path) -> Iterator[Office]:
    """Run LibreOffice Calc on ``display`` with a fresh profile in ``workdir``; yield it once UNO answers."""
    port = free_port()
    profile = write_profile(workdir / "profile")
    env = {**os.environ, "DISPLAY": display, "SAL_USE_VCLPLUGIN": "gen"}
    proc = spawn([SOFFICE, "--calc", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                  f"-env:UserInstallation={profile}",
                  f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"], env)
    office = None
    try:
        office = Office(proc, connect(port, proc))
        yield office
    finally:
        if office is not None:
            quit_office(office)
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


def quit_office(office: Office, timeout: float = 15) -> None:
    """Close every document without saving and end LibreOffice; give up after ``timeout`` s (``stop`` follows)."""

    def close_all() -> None:
        desktop = office.ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", office.ctx)
        components = desktop.getComponents().createEnumeration()
        while components.hasMoreElements():
            doc = components.nextElement()
            with suppress(Exception):
                doc.setModified(False)  # else terminate() waits on a "Save changes?" dialog
                doc.close(True)
        desktop.terminate()

    worker = threading.Thread(target=lambda: suppress_all(close_all), daemon=True)
    worker.start()
    worker.join(timeout)


def suppress_all(func: Callable[[], None]) -> None:
    """Call ``func``, ignoring any exception (for shutting down whatever state LibreOffice is in)."""
    with suppress(Exception):
        func()


# ---------------------------------------------------------------- UNO helpers


def settle(session: Session, seconds: float = SETTLE_SECONDS) -> None:
    """Let LibreOffice finish what it is doing (its pending events, painting), then wait ``seconds``."""
    with suppress(Exception):
        session.service("com.sun.star.awt.Toolkit").processEventsToIdle()
    time.sleep(seconds)


def open_workbook(session: Session, path: Path) -> None:
    """Open ``path`` in a visible window that fills the screen (there is no window manager to maximize it)."""
    session.doc = session.desktop.loadComponentFromURL(path.resolve().as_uri(), "_blank", 0, props(Hidden=False))
    if session.doc is None:
        raise RuntimeError(f"LibreOffice could not open {path}")
    window = session.window
    window.setPosSize(0, 0, session.width, session.height, POSSIZE)
    with suppress(Exception):
        window.IsMaximized = True
    window.setVisible(True)
    window.setFocus()
    settle(session, 2.0)


def sheet_by_name(session: Session, name: str) -> Any:
    """Return the sheet called ``name``; stop with the list of sheet names if there is none."""
    sheets = session.doc.getSheets()
    if not sheets.hasByName(name):
        raise SystemExit(f"look.py: no sheet {name!r}; the workbook has {list(sheets.getElementNames())}")
    return sheets.getByName(name)


def select(session: Session, ref: CellRef) -> Any:
    """Activate the sheet of ``ref`` and select its cell through UNO (which scrolls it into view); return the cell."""
    sheet = sheet_by_name(session, ref.sheet)
    controller = session.doc.getCurrentController()
    controller.setActiveSheet(sheet)
    cell = sheet.getCellRangeByName(ref.cell)
    controller.select(cell)
    return cell


def dispatch(session: Session, command: str) -> None:
    """Run a ``.uno:`` command on the document's frame, as its menu item or key would."""
    frame = session.doc.getCurrentController().getFrame()
    session.service("com.sun.star.frame.DispatchHelper").executeDispatch(frame, command, "", 0, ())


# ---------------------------------------------------------------- where a cell is on the screen


def grids(acc: Any, depth: int = 0) -> Iterator[Any]:
    """Yield the accessible contexts of the sheet grids under ``acc``: one per pane (up to 4 with frozen panes)."""
    ctx = acc.getAccessibleContext()
    if hasattr(ctx, "getAccessibleCellAt"):
        yield ctx
        return
    menu_bar = uno.getConstantByName("com.sun.star.accessibility.AccessibleRole.MENU_BAR")
    if depth > 8 or ctx.getAccessibleRole() == menu_bar:
        return
    for index in range(min(ctx.getAccessibleChildCount(), 100)):
        yield from grids(ctx.getAccessibleChild(index), depth + 1)


def box_of(ctx: Any) -> Box:
    """Return the on-screen box of an accessible component."""
    point, size = ctx.getLocationOnScreen(), ctx.getSize()
    return point.X, point.Y, size.Width, size.Height


def intersect(a: Box, b: Box) -> Box | None:
    """Return the overlap of two boxes, or None if they do not overlap."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (left, top, right - left, bottom - top) if right > left and bottom > top else None


def cell_box(session: Session, cell: Any) -> Box | None:
    """Return the visible part of ``cell`` on the screen, from the accessibility tree; None if it is not shown.

    With frozen rows or columns the sheet is shown in up to four panes; the cell is in the one where it is visible.
    """
    address = cell.getCellAddress()
    try:
        for grid in grids(session.window):
            acc_cell = grid.getAccessibleCellAt(address.Row, address.Column).getAccessibleContext()
            visible = intersect(box_of(acc_cell), box_of(grid))
            if visible is not None:
                return visible
    except Exception:  # noqa: BLE001 - the accessibility tree is a best effort
        return None
    return None


# ---------------------------------------------------------------- mouse and keyboard


def xdotool(session: Session, *args: str) -> None:
    """Run ``xdotool`` on the session's display (real X input events, as a person's mouse and keyboard make)."""
    subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": session.display}, check=False, timeout=30)


def click(session: Session, cell: Any) -> bool:
    """Click the middle of ``cell`` and leave the pointer resting on it; return whether the cell was on screen.

    The click (not the UNO selection alone) is what makes Calc show the cell's validation input help and its
    dropdown button; the pointer moving onto the cell after the click is what shows its comment.
    """
    box = cell_box(session, cell)
    if box is None:
        return False
    x, y = box[0] + box[2] // 2, box[1] + box[3] // 2
    xdotool(session, "mousemove", str(x - 3), str(y), "click", "1")
    time.sleep(0.3)
    xdotool(session, "mousemove", str(x), str(y))
    return True


def park_mouse(session: Session) -> None:
    """Move the pointer to the bottom-right corner of the screen, away from the cells."""
    xdotool(session, "mousemove", str(session.width - 1), str(session.height - 1))


def put_cursor(session: Session, ref: CellRef) -> Any:
    """Bring ``ref`` into view and click it, as a person does; return the cell (warn if it could not be clicked)."""
    cell = select(session, ref)
    settle(session, 0.5)
    if not click(session, cell):
        park_mouse(session)
        print(f"note: could not find {ref} on the screen; it is selected, not clicked", file=sys.stderr)
    return cell


# ---------------------------------------------------------------- screenshots


def safe_name(text: str) -> str:
    """Turn ``text`` into a part of a file name: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "sheet"


def screenshot(session: Session, label: str) -> Path:
    """Save the whole screen as ``OUTDIR/NN-label.png``, print its path and return it."""
    if session.timed_out and label != "timeout":
        raise RuntimeError("timed out")
    session.shots += 1
    path = session.outdir / f"{session.shots:02d}-{label}.png"
    env = {**os.environ, "DISPLAY": session.display}
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, timeout=60)
    print(path, flush=True)
    return path


def shoot_sheet(session: Session, name: str) -> Path:
    """Show sheet ``name`` from its top-left, with the cell cursor on A1 and the mouse out of the way; screenshot."""
    put_cursor(session, CellRef(name, "A1"))
    park_mouse(session)
    settle(session)
    return screenshot(session, safe_name(name))


def shoot_dropdown(session: Session, ref: CellRef) -> Path:
    """Click ``ref``, open its validation list (what Alt+Down does in Calc) and screenshot it."""
    cell = put_cursor(session, ref)
    if cell.Validation.Type.value != "LIST":
        print(f"note: {ref} has no validation list; Calc shows the column's entries instead", file=sys.stderr)
    settle(session, 0.5)
    dispatch(session, ".uno:DataSelect")
    settle(session)
    path = screenshot(session, f"dropdown-{safe_name(ref.sheet)}-{ref.cell}")
    xdotool(session, "key", "Escape")
    settle(session, 0.3)
    return path


def shoot_cell(session: Session, ref: CellRef) -> Path:
    """Click ``ref`` and leave the mouse on it, so its comment and input help show; screenshot it."""
    put_cursor(session, ref)
    settle(session, 1.5)
    path = screenshot(session, f"cell-{safe_name(ref.sheet)}-{ref.cell}")
    park_mouse(session)
    return path


def sheets_to_shoot(session: Session, wanted: list[str] | None) -> list[str]:
    """Return the sheets to screenshot: every visible one by default, else ``wanted`` (unhiding hidden ones)."""
    sheets = session.doc.getSheets()
    if wanted is None:
        names = list(sheets.getElementNames())
        hidden = [name for name in names if not sheets.getByName(name).IsVisible]
        for name in hidden:
            print(f"note: sheet {name!r} is hidden; skipped (name it in --sheets to see it)", file=sys.stderr)
        return [name for name in names if name not in hidden]
    for name in wanted:
        sheet = sheet_by_name(session, name)
        if not sheet.IsVisible:
            print(f"note: sheet {name!r} is hidden; unhidden in the temporary copy to show it", file=sys.stderr)
            sheet.IsVisible = True
    return wanted


# ---------------------------------------------------------------- main


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``WIDTHxHEIGHT``, e.g. ``1366x768``."""
    match = re.fullmatch(r"(\d{3,5})x(\d{3,5})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1366x768, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description="Screenshot a workbook in the real LibreOffice Calc window, "
                                     "under Xvfb. Prints the paths of the PNGs it writes.")
    parser.add_argument("workbook", type=Path, help="the .xlsx (or .ods, .xls) to look at; a copy is opened")
    parser.add_argument("outdir", type=Path, help="folder for the PNGs (created if missing)")
    parser.add_argument("--sheets", type=lambda text: [name for name in text.split(",") if name],
                        help="comma-separated sheets to show, hidden ones too (default: every visible sheet; '' for none)")
    parser.add_argument("--dropdown", type=CellRef.parse, action="extend", nargs="+", default=[], metavar="SHEET!CELL",
                        help="click this cell, open its validation dropdown and screenshot it (repeatable)")
    parser.add_argument("--cell", type=CellRef.parse, action="extend", nargs="+", default=[], metavar="SHEET!CELL",
                        help="click this cell and rest the mouse on it (comment, input help), screenshot it (repeatable)")
    parser.add_argument("--size", type=parse_size, default=(1366, 768), metavar="WxH", help="screen size (1366x768)")
    parser.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                        help="give up after this long, saving a screenshot of what is in the way (300)")
    args = parser.parse_args(argv)
    if not args.workbook.is_file():
        parser.error(f"no such file: {args.workbook}")
    return args


def start_watchdog(session: Session, seconds: float) -> threading.Timer:
    """After ``seconds``, screenshot the screen (a dialog in the way, say) and kill LibreOffice, which unblocks UNO."""

    def fire() -> None:
        session.timed_out = True
        print(f"look.py: timed out after {seconds:.0f} s; the screen then:", file=sys.stderr)
        suppress_all(lambda: screenshot(session, "timeout"))
        stop(session.office.proc, grace=2)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def take_shots(session: Session, args: argparse.Namespace, copy: Path) -> list[Path]:
    """Open ``copy`` and take every screenshot asked for; return their paths."""
    open_workbook(session, copy)
    shots = [shoot_sheet(session, name) for name in sheets_to_shoot(session, args.sheets)]
    shots += [shoot_dropdown(session, ref) for ref in args.dropdown]
    shots += [shoot_cell(session, ref) for ref in args.cell]
    return shots


def run(args: argparse.Namespace, workdir: Path) -> list[Path]:
    """Start Xvfb and LibreOffice, take the screenshots of a copy of the workbook, and stop both again."""
    copy = workdir / f"look-copy{args.workbook.suffix}"
    shutil.copyfile(args.workbook, copy)
    args.outdir.mkdir(parents=True, exist_ok=True)
    width, height = args.size
    with xvfb(width, height) as display, libreoffice(display, workdir) as office:
        session = Session(display, width, height, args.outdir, office)
        watchdog = start_watchdog(session, args.timeout)
        try:
            return take_shots(session, args, copy)
        except (UnoException, RuntimeError) as exc:  # a UNO exception confuses contextlib: raise a plain one
            reason = f"timed out after {args.timeout:.0f} s" if session.timed_out else describe(exc)
            raise RuntimeError(reason) from None
        finally:
            watchdog.cancel()


def describe(exc: BaseException) -> str:
    """One line for an exception, UNO ones (whose ``str`` is their type and message) included."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def exit_on_signal(signum: int, _frame: Any) -> None:
    """Turn SIGTERM and SIGHUP into SystemExit, so the cleanup in the ``finally`` blocks runs."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and look, in a temporary folder that is removed afterwards."""
    args = parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, exit_on_signal)
    try:
        with tempfile.TemporaryDirectory(prefix="look-") as workdir:
            shots = run(args, Path(workdir))
    except RuntimeError as exc:
        print(f"look.py: error: {exc}", file=sys.stderr)
        return 1
    print(f"look.py: {len(shots)} screenshot(s) in {args.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
