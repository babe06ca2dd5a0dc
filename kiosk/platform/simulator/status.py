"""The resident-status answer (issue 14): the facts the service guides' conditions need, and how a
simulated resident's record maps onto them."""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from pydantic import BaseModel, Field

from kiosk.platform.simulator import data as simdata


class StudentOut(BaseModel):
    full_time: bool = Field(description="full-time student (全日制在校生)")
    graduating_this_year: bool = Field(description="in the graduation year (毕业年度)")


class EmploymentOut(BaseModel):
    status: Literal["employed", "flexible", "unemployed", "farmer", "retired", "student", "child"]
    employer_kind: Literal["enterprise", "institution", ""] = Field(
        description="for status employed: enterprise (企业) or institution (机关事业单位)"
    )
    contributing_employee_pension_this_year: bool = Field(
        description="employee pension contributions recorded this year (the item-25 record)"
    )
    away_from_home: bool = Field(description="working away from the village (外出务工)")
    able_to_work: bool = Field(description="有劳动能力")
    working_age_limit: int = Field(description="statutory retirement age that ends working age for this person")


class UnemploymentOut(BaseModel):
    registered: bool = Field(description="失业登记 on record")
    registered_on: _dt.date | None = None
    involuntary: bool | None = Field(None, description="非因本人意愿中断就业, as registered; null when not registered")
    reason_zh: str = ""
    insurance_months: int = Field(description="unemployment-insurance months paid")
    receiving: bool = Field(description="receiving unemployment-insurance benefit")


class CertificateOut(BaseModel):
    name: str
    kind: str
    issued: _dt.date


class TrainingOut(BaseModel):
    subsidised_this_year: bool = Field(description="took part in government-subsidised training this year")
    intention_registered: bool
    enrolments: int
    certificates: list[CertificateOut]


class EnterprisePensionOut(BaseModel):
    insured: bool
    months: int
    receiving: bool


class ResidentPensionOut(BaseModel):
    enrolled: bool
    years: int
    receiving: bool
    paused: bool
    scheme_start: _dt.date | None = Field(None, description="when this resident entered the resident-pension scheme")
    gap_years: int = Field(description="years without contribution since enrolment")
    makeup_eligible: bool = Field(description="item 32: may declare make-up contributions")
    supplementary_enrolled: bool
    supplementary_receiving: bool


class PensionsOut(BaseModel):
    enterprise: EnterprisePensionOut
    resident: ResidentPensionOut
    institution_receiving: bool = Field(description="按月领取机关事业单位基本养老保险待遇")


class CardStatusOut(BaseModel):
    state: Literal["none", "normal", "temp_lost", "lost", "not_activated", "in_production"]
    reissue: Literal["none", "applied", "issued"] = Field(description="补办社保卡: a reissued card ends the old one")


class ResidentStatusOut(BaseModel):
    """The facts the service guides' conditions need (issue 14): what the kiosk checks before a form."""

    id_number: str
    student: StudentOut
    employment: EmploymentOut
    unemployment: UnemploymentOut
    training: TrainingOut
    pensions: PensionsOut
    recipient_groups: list[
        Literal[
            "enterprise_pension", "institution_pension", "resident_pension", "work_injury_1_4", "survivor_dependant"
        ]
    ] = Field(description="monthly benefits that need the yearly eligibility certification (item 21)")
    card: CardStatusOut
    registrations: list[
        Literal[
            "fixed_seeker",
            "gig_seeker",
            "gig_employer",
            "flexible",
            "unemployment",
            "employment_certificate",
            "training_intention",
            "training_referral",
        ]
    ]


def resident_status(r: simdata.ResidentRec, today: _dt.date) -> ResidentStatusOut:
    """What POST /v1/residents/status answers for ``r`` on ``today``."""
    groups = [
        g
        for g, on in (
            ("enterprise_pension", r.emp_receiving),
            ("institution_pension", r.institution_pension),
            ("resident_pension", r.res_receiving),
            ("work_injury_1_4", 1 <= r.injury_level <= 4),
            ("survivor_dependant", r.survivor_allowance),
        )
        if on
    ]
    regs = set(r.registrations)
    if r.unemployed_registered:
        regs.add("unemployment")
    if r.jyc_cert:
        regs.add("employment_certificate")
    if r.training_intent:
        regs.add("training_intention")
    if r.training_intent or r.training_enrolments:
        regs.add("training_referral")  # as the item-18 enquiry sees it: registered intent gets referrals
    contributing = (
        r.emp_insured
        and r.employment in ("employed", "flexible")
        and not r.emp_receiving
        and r.employer_kind != "institution"
    )
    return ResidentStatusOut(
        id_number=r.id_number,
        student=StudentOut(full_time=r.student, graduating_this_year=r.graduating),
        employment=EmploymentOut(
            status=r.employment,  # type: ignore[arg-type]
            employer_kind=r.employer_kind,  # type: ignore[arg-type]
            contributing_employee_pension_this_year=contributing,
            away_from_home=r.away,
            able_to_work=r.able_to_work,
            working_age_limit=simdata.working_age_limit(r),
        ),
        unemployment=UnemploymentOut(
            registered=r.unemployed_registered,
            registered_on=r.unemployed_since,
            involuntary=r.involuntary,
            reason_zh=r.unemployment_reason,
            insurance_months=r.ui_months,
            receiving=r.ui_receiving,
        ),
        training=TrainingOut(
            subsidised_this_year=r.subsidised_training_this_year,
            intention_registered=r.training_intent,
            enrolments=len(r.training_enrolments),
            certificates=[
                CertificateOut(name=c["name"], kind=c["kind"], issued=_dt.date.fromisoformat(c["issued"]))
                for c in r.certificates
            ],
        ),
        pensions=PensionsOut(
            enterprise=EnterprisePensionOut(insured=r.emp_insured, months=r.emp_months, receiving=r.emp_receiving),
            resident=ResidentPensionOut(
                enrolled=r.res_enrolled,
                years=r.res_years,
                receiving=r.res_receiving,
                paused=r.res_paused,
                scheme_start=r.res_start,
                gap_years=r.res_gap_years,
                makeup_eligible=simdata.makeup_eligible(r, today),
                supplementary_enrolled=r.supp_enrolled,
                supplementary_receiving=r.supp_receiving,
            ),
            institution_receiving=r.institution_pension,
        ),
        recipient_groups=groups,  # type: ignore[arg-type]
        card=CardStatusOut(state=r.effective_card_state(today), reissue=r.card_reissue),  # type: ignore[arg-type]
        registrations=sorted(regs),  # type: ignore[arg-type]
    )
