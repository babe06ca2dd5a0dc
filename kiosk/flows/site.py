"""Where this kiosk is: the site lines printed on receipts and counter checklists."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core.settings import SiteSettings


@dataclass(frozen=True)
class Site:
    """Where this kiosk is: printed on receipts and checklists."""

    name: str
    device_id: str
    county: str = ""
    office_phone: str = ""
    office_name: str = ""
    office_address: str = ""
    tracking_url: str = ""

    @classmethod
    def from_settings(cls, s: SiteSettings) -> Site:
        """The typed ``[site]`` section; an empty office name reads "<county>乡镇（街道）便民服务中心"."""
        county = s.county
        return cls(
            name=s.name,
            device_id=s.device_id,
            county=county,
            office_phone=s.office_phone,
            office_name=s.office_name or (f"{county}乡镇（街道）便民服务中心" if county else ""),
            office_address=s.office_address,
            tracking_url=s.tracking_url,
        )
