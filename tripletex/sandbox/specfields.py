"""Field names that Tripletex's spec (v2.72.00) declares per model the sandbox serves.

A `fields=` name in this list that the sandbox does not fill is left out of the answer, as
Tripletex leaves out a null; only names outside the list are a 400/11000.
"""

from __future__ import annotations


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


SPEC_FIELDS: dict[str, frozenset[str]] = {
    "account": _names(
        "id version changes url number numberPretty name description type legalVatTypes "
        "ledgerType balanceGroup vatType vatLocked currency isCloseable "
        "isApplicableForSupplierInvoice requireReconciliation isInactive isBankAccount "
        "isInvoiceAccount bankAccountNumber bankAccountCountry bankName bankAccountIBAN "
        "bankAccountSWIFT saftCode groupingCode displayName requiresDepartment requiresProject "
        "invoicingDepartment isPostingsExist quantityType1 quantityType2 department"
    ),
    "vatType": _names(
        "id version changes url name number displayName percentage deductionPercentage parentType"
    ),
    "voucherType": _names("id version changes url name displayName"),
    "voucher": _names(
        "id version changes url date number tempNumber year description voucherType "
        "reverseVoucher postings document attachment externalVoucherNumber ediDocument "
        "supplierVoucherType wasAutoMatched vendorInvoiceNumber displayName numberAsString"
    ),
    "posting": _names(
        "id version changes url voucher date description account amortizationAccount "
        "amortizationStartDate amortizationEndDate customer supplier employee project product "
        "department vatType amount amountCurrency amountGross amountGrossCurrency currency "
        "closeGroup invoiceNumber termOfPayment row type externalRef systemGenerated "
        "taxTransactionType taxTransactionTypeId matched quantityAmount1 quantityType1 "
        "quantityAmount2 quantityType2 isVatReadonly isAmountVatClosed postingRuleId"
    ),
    "accountingPeriod": _names(
        "id version changes url name number start end isClosed checkLedgerLogEmployeeName "
        "checkLedgerLogEmployeePictureId checkLedgerLogTime checkWageLogEmployeeName "
        "checkWageLogEmployeePictureId checkWageLogTime"
    ),
    "department": _names(
        "id version changes url name departmentNumber departmentManager displayName isInactive "
        "businessActivityTypeId"
    ),
    "project": _names(
        "id version changes url name number displayName description projectManager department "
        "mainProject startDate endDate customer isClosed isReadyForInvoicing isInternal isOffer "
        "isFixedPrice projectCategory deliveryAddress boligmappaAddress displayNameFormat "
        "reference externalAccountsNumber discountPercentage vatType fixedprice "
        "contributionMarginPercent numberOfSubProjects numberOfProjectParticipants orderLines "
        "currency markUpOrderLines markUpFeesEarned isPriceCeiling priceCeilingAmount "
        "projectHourlyRates forParticipantsOnly participants contact attention invoiceComment "
        "invoicingPlan preliminaryInvoice generalProjectActivitiesPerProjectOnly "
        "projectActivities hierarchyNameAndNumber invoiceDueDate invoiceDueDateType "
        "invoiceReceiverEmail overdueNoticeEmail accessType useProductNetPrice "
        "ignoreCompanyProductDiscountAgreement customerName hierarchyLevel "
        "projectManagerNameAndNumber totalInvoicedOnAccountAmountAbsoluteCurrency "
        "invoiceOnAccountVatHigh invoiceReserveTotalAmountCurrency"
    ),
    "employee": _names(
        "id version changes url firstName lastName displayName employeeNumber dateOfBirth email "
        "phoneNumberMobileCountry phoneNumberMobile phoneNumberHome phoneNumberWork "
        "nationalIdentityNumber dnumber internationalId bankAccountNumber iban bic "
        "creditorBankCountryId usesAbroadPayment userType allowInformationRegistration isContact "
        "isProxy comments address department employments holidayAllowanceEarned employeeCategory "
        "isAuthProjectOverviewURL pictureId companyId"
    ),
    "company": _names(
        "id version changes url name displayName startDate endDate organizationNumber email "
        "phoneNumber phoneNumberMobile faxNumber address type currency accountantOrSimilar "
        "companyMigration invoiceShowDeliveryDate customerCompanyId"
    ),
    "currency": _names("id version changes url code description factor displayName isDisabled"),
    "document": _names("id version changes url fileName size mimeType"),
    "resultBudget": _names(
        "id version changes url account accountingPeriod amount department project product "
        "employee resultBudgetType"
    ),
    "balanceSheetAccount": _names("account balanceIn balanceChange balanceOut startDate endDate"),
    "loggedInUserInfo": _names(
        "employeeId actualEmployeeId employee companyId company language loggedInWithConnect "
        "employeeIsProxy"
    ),
}
