"""Writes for origination: validate, lock, write, audit, schedule on-commit effects.

One module per area; this package re-exports the public names explicitly (Zulip's
`from .x import name as name`) so `from origination import services; services.x(...)` works.
Every mutation is `<entity>_<action>(*, ..., acting_user)` and returns the domain object.
No network call happens inside a transaction: identity and bureau pulls run before, files
are stored before, e-mails and PDFs for notices go in `transaction.on_commit`.
Reads live in `origination.selectors`.
"""

from .applicants import APPLICANT_FIELDS as APPLICANT_FIELDS
from .applicants import age_on as age_on
from .applicants import applicant_create as applicant_create
from .applicants import applicant_ssn_reveal as applicant_ssn_reveal
from .applicants import ssn_normalize as ssn_normalize
from .applications import application_create as application_create
from .applications import application_start as application_start
from .applications import application_submit as application_submit
from .applications import application_withdraw as application_withdraw
from .decisioning import application_decide as application_decide
from .decisioning import bureau_report_pull as bureau_report_pull
from .decisioning import decision_inputs_build as decision_inputs_build
from .decisioning import identity_check_run as identity_check_run
from .disbursement import DISBURSEMENT_METHODS as DISBURSEMENT_METHODS
from .disbursement import application_disburse as application_disburse
from .disbursement import loan_boarding_build as loan_boarding_build
from .disbursement_account import ACCOUNT_OPEN_FOR_STAFF as ACCOUNT_OPEN_FOR_STAFF
from .disbursement_account import (
    application_disbursement_account_set as application_disbursement_account_set,
)
from .disbursement_account import disbursement_account_normalize as disbursement_account_normalize
from .documents import adverse_action_notice_create as adverse_action_notice_create
from .documents import application_documents_request as application_documents_request
from .documents import document_open as document_open
from .documents import document_review as document_review
from .documents import document_upload as document_upload
from .documents import sniff_content_type as sniff_content_type
from .invitations import applicant_link_check as applicant_link_check
from .invitations import borrower_invitation_accept as borrower_invitation_accept
from .invitations import borrower_invitation_create as borrower_invitation_create
from .invitations import borrower_invitation_decline as borrower_invitation_decline
from .offers import accepting_on_behalf as accepting_on_behalf
from .offers import offer_accept as offer_accept
from .offers import offers_expire as offers_expire
from .products import PRODUCT_MONEY_FIELDS as PRODUCT_MONEY_FIELDS
from .products import PRODUCT_TERM_FIELDS as PRODUCT_TERM_FIELDS
from .products import product_create as product_create
from .products import product_save as product_save
from .products import product_update as product_update
from .rule_sets import rule_set_activate as rule_set_activate
from .rule_sets import rule_set_create as rule_set_create
from .rule_sets import rule_set_draft_add as rule_set_draft_add
from .underwriting import application_approve as application_approve
from .underwriting import application_decline as application_decline
