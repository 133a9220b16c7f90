"""4.2-4.4 guard analysis on the deployed module's source (AST only; group resolution: test_host_guards_db)."""

from __future__ import annotations

from deploylog.demo import module_repo as hr
from deploylog.hostchecks import guards

NEW = hr.guard_code(hr.PAYMENT_NEW, "payment_account_enhanced.group_payment_manager", "account.group_system").encode()
MOVE = hr.guard_code(hr.MOVE_NEW, "payment_account_enhanced.group_payment_manager", "base.group_system").encode()


def test_write_guard_found_by_name_with_its_line_range_raises_and_groups():
    a = guards.analyse(NEW, "AccountPayment.write", "m/models/account_payment.py")
    assert not a.error
    first = NEW.decode().splitlines().index("    def write(self, vals):") + 1
    assert a.lines[0] == first and a.lines[1] > first
    assert any("AccountPayment.write" in r and "raise UserError" in r for r in a.raises)
    # the groups of the guard and of the helper it calls
    assert set(a.groups) == {"account.group_system", "payment_account_enhanced.group_payment_manager"}


def test_button_draft_guard():
    a = guards.analyse(MOVE, "AccountMove.button_draft", "m/models/account_move.py")
    assert a.raises and not a.error


def test_predicate_guard_is_verified_through_the_if_that_calls_it():
    a = guards.analyse(NEW, "AccountPayment._is_payment_reconciled", "x.py")
    assert len(a.raises) == 1
    assert "when _is_payment_reconciled() is true" in a.raises[0]


def test_predicate_via_a_variable_counts_too():
    src = b"""
class P:
    def _locked(self):
        return True
    def write(self, vals):
        locked = self._locked()
        if locked and vals:
            raise ValidationError("locked")
"""
    assert guards.analyse(src, "P._locked", "x.py").raises


def test_raise_in_helper_called_through_self_counts():
    src = b"""
class P:
    def _check(self):
        raise AccessError("no")
    def write(self, vals):
        self._check()
        return super().write(vals)
"""
    a = guards.analyse(src, "P.write", "x.py")
    assert a.raises == ["P._check:4 raise AccessError (helper called from the guard)"]


def test_removed_guard_is_not_found():
    old = hr.PAYMENT_OLD.encode()
    a = guards.analyse(old, "AccountPayment._is_payment_reconciled", "x.py")
    assert a.error == "method _is_payment_reconciled not found in class AccountPayment"
    a = guards.analyse(old, "AccountPayment.write", "x.py")
    assert not a.error and a.raises == []  # present, but guards nothing


def test_other_exceptions_and_unrelated_ifs_do_not_count():
    src = b"""
class P:
    def _flag(self):
        return True
    def write(self, vals):
        if vals:
            raise ValueError("not a user-facing guard")
        if self._flag():
            return False
        if other():
            raise UserError("unrelated to the flag")
"""
    # write raises a UserError somewhere, but not on _flag's branch: _flag guards nothing
    assert guards.analyse(src, "P._flag", "x.py").raises == []
    only_value_error = src.replace(b'raise UserError("unrelated to the flag")', b"pass")
    assert guards.analyse(only_value_error, "P.write", "x.py").raises == []


def test_user_has_groups_lists_and_negations_are_split():
    src = b"""
class P:
    def write(self, vals):
        if not self.user_has_groups('base.group_user,!base.group_portal'):
            raise UserError('x')
"""
    assert set(guards.analyse(src, "P.write", "x.py").groups) == {"base.group_user", "base.group_portal"}


def test_unparsable_file_is_reported_not_raised():
    a = guards.analyse(b"class P(:\n", "P.write", "x.py")
    assert "does not parse" in a.error
