"""pyfingerprint (a separate, real client) against the ZhianTec simulator's pty."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_bridge.zhiantec.simulator import ZhianTecSimulator

pyfingerprint = pytest.importorskip("pyfingerprint.pyfingerprint", reason="pip install pyfingerprint (dev extra)")


def test_pyfingerprint_reads_parameters_enrols_stores_and_searches(tmp_path: Path) -> None:
    with ZhianTecSimulator(link=tmp_path / "fp", library_file=tmp_path / "lib.json") as sim:
        f = pyfingerprint.PyFingerprint(sim.port, 57600, 0xFFFFFFFF, 0x00000000)
        assert f.verifyPassword()
        _status, _system_id, capacity, security, address, packet_size_code, baud_n = f.getSystemParameters()
        assert (capacity, security, address, packet_size_code, baud_n) == (200, 3, 0xFFFFFFFF, 2, 6)
        assert f.getStorageCapacity() == 200 and f.getMaxPacketSize() == 128 and f.getBaudRate() == 57600
        assert f.getTemplateCount() == 0

        assert not f.readImage()  # nothing on the glass
        sim.place_finger("pegawai-1/0")
        assert f.readImage()
        f.convertImage(0x01)
        assert f.searchTemplate() == (-1, -1)
        assert f.readImage()
        f.convertImage(0x02)
        assert f.compareCharacteristics() > 0
        assert f.createTemplate()
        position = f.storeTemplate()
        assert position == 0 and f.getTemplateCount() == 1 and f.getTemplateIndex(0)[0]

        assert f.readImage()
        f.convertImage(0x01)
        found, score = f.searchTemplate()
        assert found == position and score > 0

        sim.place_finger("pegawai-2/0")
        assert f.readImage()
        f.convertImage(0x01)
        assert f.searchTemplate() == (-1, -1)

        # pyfingerprint's "download" is UpChar; its "upload" is DownChar (named backwards).
        assert f.loadTemplate(position, 0x01)
        characteristics = f.downloadCharacteristics(0x01)
        assert len(characteristics) == 512
        assert f.uploadCharacteristics(0x02, characteristics)
        assert f.deleteTemplate(position) and f.getTemplateCount() == 0
        del f
