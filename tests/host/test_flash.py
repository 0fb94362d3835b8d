"""keep flash: firmware files are judged before hardware is touched; UF2 lands on the drive."""

import struct
import subprocess
import sys

import esptool
import pytest
import serial
from esptool.bin_image import ELFSection, ESP32FirmwareImage, ESP32S3FirmwareImage, LoadFirmwareImage

from keep_host import cli
from keep_host.boards import load_board
from keep_host.errors import KeepError
from keep_host.flash import FLASHERS, ImageError, esp_image, esptool_flasher, flasher_for, uf2
from keep_host.flash.uf2_flasher import Uf2Flasher

RP2040 = 0xE48BFF56
ESP32S2_FAMILY = 0xBFDD4EEE


# ---- building test files ----------------------------------------------------------

def make_uf2(payload, family=RP2040, flags=0x2000, base=0x10000000, page=256,
             numbering=None, total=None):
    """A UF2 file of `payload` in `page`-byte blocks (RP2040 style)."""
    # Pad the last page, as UF2 writers do (the RP2040 ROM takes whole pages).
    chunks = [payload[i:i + page].ljust(page, b"\0")
              for i in range(0, len(payload), page)] or [b""]
    n = len(chunks)
    out = bytearray()
    for i, c in enumerate(chunks):
        no = numbering(i) if numbering else i
        head = struct.pack("<8I", 0x0A324655, 0x9E5D5157, flags, base + i * page, len(c), no,
                           n if total is None else total, family)
        out += head + c.ljust(476, b"\0") + struct.pack("<I", 0x0AB16F30)
    return bytes(out)


def esp_image_bytes(cls=ESP32FirmwareImage):
    """An ESP image written by esptool's own image classes (not by our code)."""
    img = cls()
    img.entrypoint = 0x40080400
    img.segments = [ELFSection(b".dram0.data", 0x3FFB0000, bytes(range(200)), 0),
                    ELFSection(b".iram0.text", 0x40080000, b"\x5a" * 1030, 0)]
    return img.save(None)


@pytest.fixture
def pico():
    return load_board("rpi_pico")


@pytest.fixture
def devkit():
    return load_board("esp32_devkitc")


# ---- UF2 ------------------------------------------------------------------------------

def test_registry_covers_the_boards(devkit, pico):
    assert set(FLASHERS) == {"esptool", "uf2"}
    assert isinstance(flasher_for(pico), Uf2Flasher)
    assert flasher_for(devkit).kind == "esptool"
    with pytest.raises(KeepError, match="virtual board"):
        flasher_for(load_board("unix"))


def test_valid_uf2_is_accepted():
    info = uf2.validate(make_uf2(bytes(1000)), RP2040)
    assert (info.blocks, info.payload_bytes, info.family_id) == (4, 1024, RP2040)
    assert info.first_addr == 0x10000000 and info.last_addr == 0x10000000 + 4 * 256


@pytest.mark.parametrize("data,want", [
    (b"", "not a UF2 file: 0 bytes"),
    (make_uf2(bytes(512))[:-1], "not a whole number of 512-byte blocks"),
    (bytes(1024), "block 0 has bad magic numbers"),
    (make_uf2(bytes(512))[:-4] + b"\0\0\0\0", "block 1 has bad magic numbers"),
    (make_uf2(bytes(512), family=ESP32S2_FAMILY),
     "block 0 is for ESP32-S2, this board needs RP2040 (0xe48bff56)"),
    (make_uf2(bytes(512), flags=0), "no block carries a family id"),
    (make_uf2(bytes(768), numbering=lambda i: [0, 2, 1][i]), "block 1 is numbered 2"),
    (make_uf2(bytes(512), total=3), "block 0 says the file has 3 blocks, it has 2"),
    (make_uf2(bytes(300), page=300), "RP2040 needs 256-byte payloads"),
    (make_uf2(bytes(512), flags=0x3000), "file-container block"),
    (b"\xe9" + bytes(511), "looks like an ESP firmware image"),
])
def test_bad_uf2_is_refused_with_a_reason(data, want):
    with pytest.raises(ImageError) as e:
        uf2.validate(data, RP2040)
    assert want in str(e.value) and "\n" not in str(e.value)


def test_oversized_payload_is_refused():
    data = bytearray(make_uf2(bytes(256)))
    struct.pack_into("<I", data, 16, 477)
    with pytest.raises(ImageError, match="477-byte payload"):
        uf2.validate(bytes(data), RP2040)


def fake_drive(root, name="RPI-RP2", board_id="RPI-RP2"):
    d = root / name
    d.mkdir(parents=True)
    (d / "INFO_UF2.TXT").write_text(
        f"UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: {board_id}\n")
    return d


def test_drive_found_by_label_or_board_id(tmp_path):
    media = tmp_path / "media"
    a = fake_drive(media / "alice")
    fake_drive(media, "OTHER", board_id="SAMD21")
    b = fake_drive(tmp_path / "Volumes", "PICO")  # renamed volume, Board-ID still says it
    assert uf2.find_drives("RPI-RP2", [media / "alice", media, tmp_path / "Volumes"]) == \
        sorted([a, b])


def test_flash_uf2_onto_found_drive(tmp_path, pico):
    drive = fake_drive(tmp_path / "media")
    fw = tmp_path / "micropython.uf2"
    fw.write_bytes(make_uf2(bytes(range(256)) * 40))
    line = Uf2Flasher(pico, roots=[tmp_path / "media"]).flash(fw, progress=True)
    assert (drive / "micropython.uf2").read_bytes() == fw.read_bytes()
    assert "copied 40 blocks" in line


def test_no_drive_is_one_line(tmp_path, pico):
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(bytes(256)))
    with pytest.raises(KeepError, match="no RPI-RP2 drive found .* hold BOOTSEL"):
        Uf2Flasher(pico, roots=[tmp_path]).flash(fw, progress=False)


def test_keep_flash_pico_cli_with_drive(tmp_path, capsys):
    drive = fake_drive(tmp_path)
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(bytes(3000)))
    rc = cli.main(["flash", "--board", "rpi_pico", "--firmware", str(fw),
                   "--drive", str(drive), "--no-progress"])
    assert rc == 0
    assert (drive / "fw.uf2").read_bytes() == fw.read_bytes()
    assert "copied 12 blocks" in capsys.readouterr().out


@pytest.mark.parametrize("args,want", [
    (["--drive", "{tmp}"], "is not a UF2 drive (no INFO_UF2.TXT"),
    (["--drive", "{drive}", "--erase"], "--erase is not available for rpi_pico"),
    (["--drive", "{drive}", "--firmware", "{tmp}/missing.uf2"], "no such firmware file"),
])
def test_keep_flash_pico_mistakes_are_one_line(tmp_path, args, want):
    drive = fake_drive(tmp_path / "d")
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(bytes(256)))
    args = [a.format(tmp=tmp_path, drive=drive) for a in args]
    argv = ["-m", "keep_host", "flash", "--board", "rpi_pico", "--firmware", str(fw), *args]
    res = subprocess.run([sys.executable, *argv], capture_output=True, text=True)
    assert res.returncode == 1, res
    assert want in res.stderr and "Traceback" not in res.stderr
    assert not (drive / "fw.uf2").exists()


def test_keep_flash_refuses_esp_image_for_pico(tmp_path, capsys):
    drive = fake_drive(tmp_path)
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(esp_image_bytes())
    assert cli.main(["flash", "--board", "rpi_pico", "-f", str(fw), "--drive", str(drive)]) == 1
    assert "ESP firmware image" in capsys.readouterr().err
    assert not (drive / "fw.uf2").exists()


# ---- ESP32 ----------------------------------------------------------------------------

def test_esptool_written_esp32_image_is_accepted(devkit):
    data = esp_image_bytes()
    img = esp_image.check_for_chip(data, devkit.flasher.image_chip_id, devkit.name)
    assert (img.chip_id, img.segments, img.hash_appended, img.image_bytes) == \
        (0, 2, True, len(data))
    assert LoadFirmwareImage("esp32", data).chip_id == img.chip_id  # esptool agrees


def test_image_for_another_chip_is_refused(devkit):
    data = esp_image_bytes(ESP32S3FirmwareImage)
    assert LoadFirmwareImage("esp32s3", data).chip_id == 9  # esptool's own reading
    with pytest.raises(ImageError) as e:
        esp_image.check_for_chip(data, 0, devkit.name)
    assert str(e.value) == ("the image is for esp32s3 (chip id 9), but esp32_devkitc is "
                            "esp32 (chip id 0)")


def _corrupt(data, at, value):
    b = bytearray(data)
    b[at] = value
    return bytes(b)


GOOD = esp_image_bytes()


@pytest.mark.parametrize("data,want", [
    (b"", "too short"),
    (b"\x7fELF" + bytes(60), "not an ESP firmware image (first byte 0x7f"),
    (make_uf2(bytes(256)), "this is a UF2 file"),
    (GOOD[:100], "truncated: segment 0 needs 200 bytes"),
    (_corrupt(GOOD, 1, 0), "claims 0 segments"),
    (_corrupt(GOOD, 23, 7), "hash-appended byte is 0x07"),
    (_corrupt(GOOD, 40, GOOD[40] ^ 1), "checksum is"),
    (GOOD[:-1], "truncated in its SHA-256"),
    (_corrupt(GOOD, len(GOOD) - 1, GOOD[-1] ^ 1), "SHA-256 does not match"),
])
def test_bad_esp_images_are_refused(data, want):
    with pytest.raises(ImageError) as e:
        esp_image.parse_esp_image(data)
    assert want in str(e.value)


def test_esptool_image_info_agrees_on_good_and_not_an_image(tmp_path):
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(GOOD)
    bad.write_bytes(b"\x7fELF" + bytes(60))
    esptool.main(["image-info", str(good)])  # esptool parses it too: no exception
    with pytest.raises((esptool.FatalError, SystemExit)):
        esptool.main(["image-info", str(bad)])


def test_truncations_rejected_by_esptool_are_rejected_by_us():
    # Every cut that esptool's parser refuses, ours refuses too.
    for cut in range(0, len(GOOD) - 32, 37):
        try:
            LoadFirmwareImage("esp32", GOOD[:cut])
        except Exception:
            with pytest.raises(ImageError):
                esp_image.parse_esp_image(GOOD[:cut])


def test_esptool_argv(devkit):
    f = esptool_flasher.EsptoolFlasher(devkit)
    assert f.argv("fw.bin", "/dev/ttyUSB0") == [
        "--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800",
        "write-flash", "0x1000", "fw.bin"]
    assert f.argv("fw.bin", "COM3", erase=True)[5:] == [
        "460800", "write-flash", "--erase-all", "0x1000", "fw.bin"]


def test_esptool_accepts_our_argv_shape():
    """esptool's own CLI parses the argv we build: it gets as far as opening
    the port (which does not exist here) - a bad option would stop it earlier
    with a usage error instead."""
    argv = esptool_flasher.EsptoolFlasher(load_board("esp32_devkitc")).argv(
        __file__, "/dev/keep-no-such-port", erase=True)
    with pytest.raises(esptool.FatalError, match="Could not open /dev/keep-no-such-port"):
        esptool.main(argv)


@pytest.fixture
def fake_esptool(monkeypatch):
    """esptool not run; the ports the tests name exist (keep_host.ports sees them)."""
    from keep_host import ports
    from serial.tools.list_ports_common import ListPortInfo

    monkeypatch.setattr(ports, "_comports", lambda: [ListPortInfo(d, skip_link_detection=True)
                                                     for d in ("/dev/ttyUSB0", "/dev/ttyUSB7")])
    calls = []
    monkeypatch.setattr(esptool_flasher, "run_esptool", lambda argv, port: calls.append(argv))
    return calls


def test_keep_flash_esp32_runs_esptool(tmp_path, fake_esptool, capsys):
    fw = tmp_path / "micropython.bin"
    fw.write_bytes(GOOD)
    rc = cli.main(["flash", "--board", "esp32_devkitc", "-p", "/dev/ttyUSB7", "-f", str(fw), "--erase"])
    assert rc == 0
    assert fake_esptool == [["--chip", "esp32", "--port", "/dev/ttyUSB7", "--baud", "460800",
                             "write-flash", "--erase-all", "0x1000", str(fw)]]
    assert "flashed" in capsys.readouterr().out


def test_keep_flash_esp32_refuses_s3_image_before_esptool(tmp_path, fake_esptool, capsys):
    fw = tmp_path / "s3.bin"
    fw.write_bytes(esp_image_bytes(ESP32S3FirmwareImage))
    assert cli.main(["flash", "--board", "esp32_devkitc", "-p", "/dev/ttyUSB0", "-f", str(fw)]) == 1
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "esp32s3" in err
    assert fake_esptool == []


def test_keep_flash_check_only(tmp_path, capsys):
    fw = tmp_path / "fw.bin"
    fw.write_bytes(GOOD)
    assert cli.main(["flash", "--board", "esp32_devkitc", "-f", str(fw), "--check-only"]) == 0
    assert "esp32 image, 2 segments" in capsys.readouterr().out


class _Port:
    def __init__(self, device, vid, pid):
        self.device, self.vid, self.pid = device, vid, pid


@pytest.mark.parametrize("ports,want", [
    ([_Port("/dev/ttyUSB0", 0x10C4, 0xEA60), _Port("/dev/ttyACM0", 0x2E8A, 5)], "/dev/ttyUSB0"),
    ([_Port("/dev/ttyACM0", 0x2E8A, 5)], "no --port given and no esp32_devkitc found"),
    ([_Port("/dev/ttyUSB0", 0x10C4, 0xEA60), _Port("/dev/ttyUSB1", 0x1A86, 0x7523)],
     "several ports look like esp32_devkitc"),
])
def test_port_found_by_usb_id(monkeypatch, devkit, ports, want):
    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    if want.startswith("/dev"):
        assert esptool_flasher.find_port(devkit) == want
    else:
        with pytest.raises(KeepError, match=want):
            esptool_flasher.find_port(devkit)


@pytest.mark.parametrize("exc,want", [
    (esptool.FatalError("Failed to connect to ESP32: No serial data received."),
     "esptool: Failed to connect"),
    (serial.SerialException("could not open port /dev/ttyUSB9"), "serial port /dev/ttyUSB9"),
    (SystemExit(2), "esptool stopped with status 2"),
])
def test_esptool_failures_become_one_line(monkeypatch, exc, want):
    def boom(argv):
        raise exc

    monkeypatch.setattr(esptool, "main", boom)
    with pytest.raises(KeepError) as e:
        esptool_flasher.run_esptool(["--chip", "esp32"], "/dev/ttyUSB9")
    assert want in str(e.value) and "\n" not in str(e.value)
