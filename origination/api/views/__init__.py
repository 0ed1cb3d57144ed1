"""The origination API: one module per area, one `APIView` per endpoint; `urls.py` routes
`views.<Name>`, so each view is re-exported here by name."""

from .applicants import ApplicantByExternalIdApi as ApplicantByExternalIdApi
from .applicants import ApplicantCreateApi as ApplicantCreateApi
from .applicants import ApplicantDetailApi as ApplicantDetailApi
from .applicants import ApplicantSsnRevealApi as ApplicantSsnRevealApi
from .applications import ApplicationAcceptOfferApi as ApplicationAcceptOfferApi
from .applications import ApplicationApproveApi as ApplicationApproveApi
from .applications import ApplicationByExternalIdApi as ApplicationByExternalIdApi
from .applications import ApplicationDecisionApi as ApplicationDecisionApi
from .applications import ApplicationDeclineApi as ApplicationDeclineApi
from .applications import ApplicationDetailApi as ApplicationDetailApi
from .applications import ApplicationDisburseApi as ApplicationDisburseApi
from .applications import ApplicationDisbursementAccountApi as ApplicationDisbursementAccountApi
from .applications import ApplicationEventsApi as ApplicationEventsApi
from .applications import ApplicationListCreateApi as ApplicationListCreateApi
from .applications import ApplicationOfferApi as ApplicationOfferApi
from .applications import ApplicationSubmitApi as ApplicationSubmitApi
from .applications import ApplicationWithdrawApi as ApplicationWithdrawApi
from .documents import ApplicationDocumentsApi as ApplicationDocumentsApi
from .documents import ApplicationDocumentsRequestApi as ApplicationDocumentsRequestApi
from .documents import DocumentDownloadApi as DocumentDownloadApi
from .documents import DocumentReviewApi as DocumentReviewApi
from .loan_imports import LoanImportDetailApi as LoanImportDetailApi
from .loan_imports import LoanImportListCreateApi as LoanImportListCreateApi
from .loan_imports import LoanImportRetryApi as LoanImportRetryApi
from .products import ProductDetailApi as ProductDetailApi
from .products import ProductListCreateApi as ProductListCreateApi
from .rule_sets import RuleSetActivateApi as RuleSetActivateApi
from .rule_sets import RuleSetBacktestApi as RuleSetBacktestApi
from .rule_sets import RuleSetDetailApi as RuleSetDetailApi
from .rule_sets import RuleSetListCreateApi as RuleSetListCreateApi
