/* searchlight
id          = "procurement.winner_founded_for_the_tender"
catalog     = "M38"
title       = "中标人“为项目而生”或为空壳企业"
title_en    = "Winner set up just before the tender, or a shell company"
domain      = "procurement"
area        = "招标投标"
severity    = "medium"
owner       = "党风政风监督室"
description = """
标段中标人与供应商库(登记日期、参保人数、上年纳税)比对：开标前不足规定天数才成立的，或参保人数不超过
阈值且上年纳税很少、却中标较大金额的，为借壳投标、为特定项目而生的疑点。"""
basis = [
  "《中华人民共和国政府采购法》第二十二条：供应商参加政府采购活动应当具有履行合同所必需的设备和专业技术能力，有依法缴纳税收和社会保障资金的良好记录",
  "《中华人民共和国招标投标法》第三十三条：投标人不得以他人名义投标或者以其他方式弄虚作假，骗取中标",
]
entity = ["lot_no"]
unit   = "buyer_name"
amount = "award_amount"

optional = ["procurement_lots.buyer_name", "procurement_lots.project_name", "procurement_lots.winner_name", "procurement_lots.award_amount", "suppliers.registered_on", "suppliers.insured_staff", "suppliers.tax_last_year"]
one_of   = [["suppliers.registered_on", "suppliers.insured_staff"]]

[params]
min_age_days = { type = "int", default = 180, min = 30, max = 1095, doc = "开标时成立不足此天数" }
max_insured  = { type = "int", default = 2, min = 0, max = 50, doc = "参保人数不超过此数视为无实际经营" }
max_tax      = { type = "money", default = 10000, min = 0, max = 10000000, doc = "上年纳税不超过此数(元)" }
min_award    = { type = "money", default = 500000, min = 0, max = 100000000, doc = "空壳条件只看中标金额达到此数的" }
*/
SELECT
    l.lot_no,
    l.buyer_name,
    l.project_name,
    l.winner_uscc,
    l.winner_name,
    l.award_amount,
    CAST(l.open_time AS DATE)                             AS open_date,
    s.registered_on,
    CAST(l.open_time AS DATE) - s.registered_on           AS age_days,
    s.insured_staff,
    s.tax_last_year,
    CASE WHEN CAST(l.open_time AS DATE) - s.registered_on < $min_age_days THEN '成立不久即中标' ELSE '无参保无纳税' END AS finding
FROM procurement_lots l
JOIN suppliers s ON s.uscc = l.winner_uscc
WHERE CAST(l.open_time AS DATE) <= $as_of
  AND (CAST(l.open_time AS DATE) - s.registered_on < $min_age_days
       OR (s.insured_staff <= $max_insured AND coalesce(s.tax_last_year, 0) <= $max_tax AND l.award_amount >= $min_award))
