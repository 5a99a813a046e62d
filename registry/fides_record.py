"""The complete record (registry-format.md, "Optional keys for the complete record") in Fides
terms, both ways: the organisation's controller, DPO and representative, contacts, security
measures and special categories.

Fides keeps contact details as `{name, address, email, phone}` (fideslang's ContactDetails, on
the organisation's `controller`, `data_protection_officer` and `representative`); the registry
keeps `controller: {name, address, contact, dpo: {name, contact}, representative: {name,
contact, country}}`. So:
- email and phone become the `contact` (joined with ", "; read back by `split_contact`); a DPO's
  or representative's address becomes its contact only when it gives neither, else it is listed
  as not mapped (their blocks have no address key);
- the representative's country is the country its address ends with, as a labelled guess
  (ContactDetails has no country); the export writes the country's name as the address;
- a declaration's `special_category_legal_basis` is one of the ten GDPR Art. 9(2) grounds in
  order, so it maps exactly; which of the declaration's categories are special is exact only in
  flowreg's own export (`meta.flowreg.special`); otherwise the categories of an Art. 9(1) kind in
  fideslang's taxonomy are taken, as a labelled guess, or nothing is marked and it is listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pycountry

from registry.fides_vocabulary import (
    SPECIAL_BASIS_WORDS,
    art9_kind,
    as_list,
    country_in_address,
    meaningful,
    special_condition,
)
from registry.ids import Art9Condition, SpecialKind
from registry.model import Controller

Note = Callable[[str, Any, str], None]  # (path, value, reason)
CONTACT_FIELDS = ("name", "address", "email", "phone")
ORGANISATION_CONTACTS = ("controller", "data_protection_officer", "representative")
SECURITY_POLICY_REASON = ("a URL of the organisation's security policy: the registry has no key for a policy "
                          "document (systems' security_measures list the measures themselves)")
EMPTY = "empty: nothing to map"
NOTHING = (None, "", [], {})
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+")
_PHONE = re.compile(r"\+?[\d\s().\-/]+")


# --- import --------------------------------------------------------------------------------------
def controller_block(org: dict[str, Any], path: str, org_label: str, skip: Note, assume: Note) -> dict[str, Any] | None:
    """The registry's `controller` block from a Fides organisation's contact details, or None
    when the organisation gives none; every field that does not fit is passed to `skip`."""
    found: dict[str, dict[str, str]] = {}
    for key in ORGANISATION_CONTACTS:
        if key not in org:
            continue
        where, value = f"{path}.{key}", org[key]
        if not isinstance(value, dict):
            skip(where, value, "not contact details (name, address, email, phone)" if meaningful(value) else EMPTY)
            continue
        for extra in sorted(set(value) - set(CONTACT_FIELDS)):
            skip(f"{where}.{extra}", value[extra], "no flowreg equivalent")
        details = {k: " ".join(str(value[k]).split()) for k in CONTACT_FIELDS if meaningful(value.get(k))}
        if details:
            found[key] = details
        else:
            skip(where, "(empty)", EMPTY)
    if not found:
        return None
    block: dict[str, Any] = {}
    mine = found.get("controller", {})
    if mine.get("name"):
        block["name"] = mine["name"]
    else:
        block["name"] = org_label
        assume(f"{path}.controller", mine.get("name", ""), f"no controller named: the organisation ({org_label}) is taken as the controller")
    if mine.get("address"):
        block["address"] = mine["address"]
    if contact_of(mine):
        block["contact"] = contact_of(mine)
    if "data_protection_officer" in found:
        dpo = _person(found["data_protection_officer"], f"{path}.data_protection_officer", "dpo", skip)
        if dpo:
            block["dpo"] = dpo
    if "representative" in found:
        rep = _representative(found["representative"], f"{path}.representative", skip, assume)
        if rep:
            block["representative"] = rep
    block["source"] = f"Fides organization {org.get('fides_key') or org_label}"
    return block


def contact_of(details: dict[str, str]) -> str | None:
    """The email and phone of Fides contact details as one registry `contact`."""
    said = [details[k] for k in ("email", "phone") if details.get(k)]
    return ", ".join(said) if said else None


def _person(details: dict[str, str], where: str, what: str, skip: Note) -> dict[str, str]:
    """A DPO as {name, contact}: its address is its contact only when it gives no email or phone."""
    out = {k: v for k, v in (("name", details.get("name")), ("contact", contact_of(details))) if v}
    if details.get("address"):
        if "contact" not in out:
            out["contact"] = details["address"]
        else:
            skip(f"{where}.address", details["address"], f"the registry's {what} has a name and a contact, no address")
    return out


def _representative(details: dict[str, str], where: str, skip: Note, assume: Note) -> dict[str, str] | None:
    if not details.get("name"):
        skip(where, ", ".join(details.values()), "a representative needs a name (controller.representative.name)")
        return None
    out = _person({k: v for k, v in details.items() if k != "address"}, where, "representative", skip)
    address = details.get("address")
    if not address:
        return out
    country = country_in_address(address)
    if country:
        out["country"] = country
        assume(f"{where}.address", address, f"taken as where the representative is ({country})")
    if "contact" not in out:
        out["contact"] = address
    elif not country or len(re.split(r"[,\n]", address)) > 1:
        skip(f"{where}.address", address, "the registry's representative has a name, a contact and a country, no address")
    return out


def security_measures(text: Any) -> list[str]:
    """A system's `data_security_practices` (free text) as measures: one per line or ';'-part."""
    return [part.strip() for part in re.split(r"[;\n]", str(text)) if part.strip()]


def declaration_special(where: str, d: dict[str, Any], skip: Note, assume: Note) -> dict[str, tuple[str, str | None]]:
    """What a declaration's `processes_special_category_data` and `special_category_legal_basis`
    say about its categories: {category: ('art9', Art. 9(2) ground)}. Exact for the ground; the
    categories are those of an Art. 9(1) kind in fideslang's taxonomy, each a labelled guess;
    anything that cannot be placed is passed to `skip`."""
    says = d.get("processes_special_category_data")
    basis = d.get("special_category_legal_basis")
    basis_path = f"{where}.special_category_legal_basis"
    condition = special_condition(basis) if meaningful(basis) else None
    if meaningful(basis) and condition is None:
        skip(basis_path, basis, "not one of the GDPR Art. 9(2) grounds fideslang lists")
    if says is not True:
        if meaningful(says):
            skip(f"{where}.processes_special_category_data", says, "not true or false")
        if condition:
            skip(basis_path, basis, "the declaration says it processes no special-category data: not applied")
        return {}  # false: none of its data is special, the registry's default
    declared = [str(c) for c in as_list(d.get("data_categories"))]
    special = [c for c in declared if art9_kind(c)]
    flag = f"{where}.processes_special_category_data"
    if not special:
        skip(flag, True, f"none of its categories ({', '.join(declared) or 'none'}) is of an Art. 9(1) kind in "
             "fideslang's taxonomy, so which is special is unknown: set special and condition on it")
        if condition:
            skip(basis_path, basis, "the special category it applies to is unknown (see processes_special_category_data)")
        return {}
    if condition is None:
        skip(flag, ", ".join(special), "special-category data without its Art. 9(2) ground "
             "(special_category_legal_basis): an art9 category needs one; set special and condition")
        return {}
    for c in special:
        assume(flag, c, f"taken as special-category data of this declaration (an Art. 9(1) kind in fideslang's "
               f"taxonomy), ground {condition} from special_category_legal_basis")
    return dict.fromkeys(special, ("art9", condition))


def meta_special(where: str, value: Any, skip: Note) -> dict[str, tuple[str, str | None]]:
    """flowreg's own `meta.flowreg.special` ({category: {special, condition}}) as read back."""
    out: dict[str, tuple[str, str | None]] = {}
    for key, entry in (value.items() if isinstance(value, dict) else []):
        kind = entry.get("special") if isinstance(entry, dict) else None
        condition = entry.get("condition") if isinstance(entry, dict) else None
        if kind not in {k.value for k in SpecialKind} or (condition is not None and condition not in
                                                          {c.value for c in Art9Condition}):
            skip(f"{where}.{key}", entry, "not a special kind (art9, art10) with an Art. 9(2) ground flowreg knows")
        elif kind == SpecialKind.ART9.value and condition is None:
            skip(f"{where}.{key}", entry, "an art9 category needs its Art. 9(2) condition")
        else:
            out[str(key)] = (kind, condition if kind == SpecialKind.ART9.value else None)
    if not isinstance(value, dict):
        skip(where, value, "not a mapping of categories")
    return out


# Fides fields near a complete-record key that cannot fill it, and why.
NOT_A_RECORD = {
    "dpa_location": "where the DPA is: an agreement (agreements[]) needs its parties and signature date, which "
                    "Fides does not record; add it by hand with this as its document",
    "joint_controller_info": "who shares control: an Art. 26 agreement (agreements[], kind joint-controller) needs "
                             "the parties and signature date; add it by hand",
    "joint_controller": "who shares control: an Art. 26 agreement (agreements[], kind joint-controller) needs "
                        "the parties and signature date; add it by hand",
    "data_protection_impact_assessment": "a DPIA (Art. 35), not a transfer impact assessment: the registry has no DPIA key",
    "requires_data_protection_assessments": "a DPIA (Art. 35), not a transfer impact assessment: the registry has no DPIA key",
    "dpa_progress": "the progress of a DPIA (Art. 35): the registry has no DPIA key",
    "impact_assessment_location": "a legitimate-interest assessment: the registry has no key for it",
}
SUPPLEMENTARY_REASON = (
    "supplementary measures belong to a transfer impact assessment (assessments[]), which needs the hops it "
    "assesses, its regime, date and outcome and the measures themselves; Fides gives none of them, so none is made"
)


def not_a_record(key: str, value: Any) -> str:
    """Why a Fides field with no registry home is not mapped."""
    return EMPTY if value in NOTHING else NOT_A_RECORD.get(key, "no flowreg equivalent")


def system_record(path: str, s: dict[str, Any], party: dict[str, Any], system: dict[str, Any] | None, skip: Note) -> None:
    """A system's complete-record fields: its `dpo` is the contact of the party that runs it (a
    vendor's DPO answers for the vendor; an own system's for the organisation), its
    `data_security_practices` the system's security measures (`system` None: a party that
    receives directly, which has no such key)."""
    dpo = s.get("dpo")
    if dpo not in NOTHING:
        text = " ".join(str(dpo).split())
        if party.setdefault("contact", text) != text:
            skip(f"{path}.dpo", text, f"{party['id']} already has the contact {party['contact']} "
                 "(from another of its systems); a party has one contact")
    practices = s.get("data_security_practices")
    if practices not in NOTHING:
        if system is None:
            skip(f"{path}.data_security_practices", practices, "this party receives data directly, not through "
                 "a system, and a party has no security_measures key")
        else:
            system["security_measures"] = security_measures(practices)


def mark_special(special: dict[str, tuple[str, str | None, str]], category: str, kind: str, ground: str | None,
                 where: str, skip: Note) -> None:
    """Record a category as special (art9 with its ground, or art10) in `special` unless another
    place already said otherwise (a category has one kind and ground; the first is kept)."""
    known = special.get(category)
    if known is None:
        special[category] = (kind, ground, where)
    elif known[:2] != (kind, ground):
        said = known[0] + (f" under {known[1]}" if known[1] else "")
        skip(where, f"{category}: {kind}" + (f" under {ground}" if ground else ""),
             f"{known[2]} already made it {said}; a category has one kind and ground")


# --- export --------------------------------------------------------------------------------------
def split_contact(text: str | None) -> tuple[list[str], list[str], list[str]]:
    """A registry contact as (emails, phone numbers, the rest), split at ',' and ';'.

    >>> split_contact("dpo@example.eu, +1 555 555 5555, https://example.eu/privacy")
    (['dpo@example.eu'], ['+1 555 555 5555'], ['https://example.eu/privacy'])
    """
    emails: list[str] = []
    phones: list[str] = []
    rest: list[str] = []
    for part in (p.strip() for p in re.split(r"[,;]", text or "")):
        if not part:
            continue
        if _EMAIL.fullmatch(part):
            emails.append(part)
        elif _PHONE.fullmatch(part) and sum(ch.isdigit() for ch in part) >= 5:
            phones.append(part)
        else:
            rest.append(part)
    return emails, phones, rest


def contact_details(name: str | None, contact: str | None, address: str | None, what: str,
                    notes: list[str]) -> dict[str, str]:
    """fideslang ContactDetails for a registry name, contact and address; what of the contact
    is neither an email address nor a phone number is noted in `notes`."""
    emails, phones, rest = split_contact(contact)
    details = {"name": name, "address": address, "email": ", ".join(emails), "phone": ", ".join(phones)}
    if rest:
        notes.append(f"not expressible in fideslang 3: {what} contact '{', '.join(rest)}' is neither an email "
                     "address nor a phone number (contact details have name, address, email and phone)")
    return {k: v for k, v in details.items() if v}


def organisation_contacts(controller: Controller | None, notes: list[str]) -> dict[str, dict[str, str]]:
    """The fideslang 3 organisation's controller, data_protection_officer and representative."""
    if controller is None:
        return {}
    out = {"controller": contact_details(controller.name, controller.contact, controller.address, "the controller's", notes)}
    if controller.dpo is not None:
        out["data_protection_officer"] = contact_details(controller.dpo.name, controller.dpo.contact, None, "the DPO's", notes)
    rep = controller.representative
    if rep is not None:
        country = pycountry.countries.get(alpha_2=rep.country) if rep.country else None
        out["representative"] = contact_details(rep.name, rep.contact, country.name if country else None,
                                                "the representative's", notes)
        if country:
            notes.append(f"the representative's country ({rep.country}) is written as its address "
                         "(fideslang 3 contact details have no country)")
    return out


def special_basis_words(condition: str) -> str:
    """'9-2-a' -> 'Explicit consent' (fideslang's SpecialCategoryLegalBasisEnum value)."""
    return SPECIAL_BASIS_WORDS[condition]
