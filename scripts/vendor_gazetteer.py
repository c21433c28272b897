"""Copy the Thai administrative divisions from ../shared into pipeline/data/thai_admin as compact CSV."""
import csv
import json
import shutil
import sys
from pathlib import Path

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/thai-admin")
TARGET = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "thai_admin"

TABLES = {
    "provinces": ("provinceCode", "provinceNameTh", "provinceNameEn"),
    "districts": ("districtCode", "provinceCode", "districtNameTh", "districtNameEn", "postalCode"),
    "subdistricts": ("subdistrictCode", "districtCode", "provinceCode", "subdistrictNameTh",
                     "subdistrictNameEn", "postalCode"),
}


def main() -> None:
    """Write one CSV per table, plus the licence and attribution."""
    TARGET.mkdir(parents=True, exist_ok=True)
    for table, columns in TABLES.items():
        rows = json.loads((SOURCE / f"{table}.json").read_text(encoding="utf-8"))
        with open(TARGET / f"{table}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in sorted(rows, key=lambda r: r[columns[0]]):
                writer.writerow([row[c] for c in columns])
    shutil.copyfile(SOURCE / "LICENSE", TARGET / "LICENSE")
    shutil.copyfile(SOURCE / "SOURCE.md", TARGET / "SOURCE.md")


if __name__ == "__main__":
    main()
