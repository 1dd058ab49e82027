"""ID numbers: GB 11643 check digit, birth date, age, gender digit, masking, and the errors people see."""

from __future__ import annotations

from datetime import date

import pytest

from intents.idcard import IdCardError, age_on, check_digit, mask_id, normalise, parse_id

TODAY = date(2026, 11, 23)


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


def test_known_valid_number_with_x_check_digit() -> None:
    card = parse_id("11010519491231002X", TODAY)  # the standard's own worked example
    assert card.birth_date == date(1949, 12, 31) and card.gender == "女" and card.region == "110105"
    assert card.age_on(TODAY) == 76


def test_check_digit_table_covers_every_remainder() -> None:
    # weights mod 11 cycle through all remainders, so each check character appears for some number
    seen = {check_digit(f"1101051990010100{i}".ljust(17, "0")[:17]) for i in range(10)}
    seen |= {check_digit(f"11010519900101{i:03d}") for i in range(200)}
    assert seen == set("10X98765432")


FULL_WIDTH = "１１０１０５１９４９１２３１００２Ｘ"


@pytest.mark.parametrize("text", ["11010519491231002x", " 110105 19491231 002X ", FULL_WIDTH])
def test_lower_case_x_spaces_and_full_width_digits_are_accepted(text: str) -> None:
    assert parse_id(text, TODAY).number == "11010519491231002X"


def test_gender_digit_odd_is_male() -> None:
    assert parse_id(with_check("11010519800101001"), TODAY).male is True
    assert parse_id(with_check("11010519800101002"), TODAY).male is False


@pytest.mark.parametrize(("text", "reason"), [
    ("1101051949123100", "length"),
    ("110105194912310021X", "length"),
    ("11010519491231002A", "chars"),
    ("X10105194912310021", "chars"),
    ("110105194902300021", "birth"),  # 30 February
    ("110105203001010011", "birth"),  # born in the future
    ("110105189912310011", "birth"),
    ("110105194912310021", "checksum"),  # one digit off the valid ...002X
    ("11010519491231003X", "checksum"),
])
def test_bad_numbers_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(IdCardError) as err:
        parse_id(text, TODAY)
    assert err.value.reason == reason
    assert str(err.value)  # a plain-Chinese message for the person


def test_every_single_digit_typo_is_caught() -> None:
    good = with_check("32010219751102331")
    parse_id(good, TODAY)
    for pos in range(17):
        for digit in "0123456789":
            if digit == good[pos]:
                continue
            typo = good[:pos] + digit + good[pos + 1:]
            with pytest.raises(IdCardError):
                parse_id(typo, TODAY)


def test_age_counts_completed_years() -> None:
    assert age_on(date(2008, 11, 23), TODAY) == 18
    assert age_on(date(2008, 11, 24), TODAY) == 17
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25


def test_mask_shows_first_three_and_last_four_only() -> None:
    assert mask_id("110105194912311234") == "110***********1234"
    assert len(mask_id("110105194912311234")) == 18
    assert mask_id(None) == "" and mask_id("12345") == "*****"
    assert normalise("1101 0519-49") == "1101051949"
