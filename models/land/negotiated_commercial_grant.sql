/* searchlight
id          = "land.negotiated_commercial_grant"
catalog     = "M44"
title       = "经营性用地以协议方式出让"
title_en    = "Commercial or residential land granted by negotiation instead of auction"
domain      = "land"
area        = "土地出让"
severity    = "high"
owner       = "第三监督检查室"
description = """
出让合同中，商业、旅游、娱乐、商品住宅等经营性用地(及工业用地)以协议方式出让的，为应当招标拍卖挂牌
而未进行、低价出让国有土地的疑点。出让方式、用途名称可按地方实际调整。"""
basis = [
  "《招标拍卖挂牌出让国有建设用地使用权规定》(国土资源部令第39号)第四条：工业、商业、旅游、娱乐和商品住宅等经营性用地以及同一宗地有两个以上意向用地者的，应当以招标、拍卖或者挂牌方式出让",
  "《中华人民共和国城市房地产管理法》第十三条：商业、旅游、娱乐和豪华住宅用地，有条件的，必须采取拍卖、招标方式",
  "《违反土地管理规定行为处分办法》(监察部 人力资源社会保障部 国土资源部令第15号)第四条：应当采取出让方式而采用划拨方式或者应当招标拍卖挂牌出让而协议出让国有建设用地使用权的处分",
]
entity = ["contract_no"]
unit   = "region_code"
amount = "price"

optional = ["land_grants.parcel_no", "land_grants.grantee", "land_grants.area", "land_grants.price", "land_grants.region_code", "land_grants.sign_date"]

[params]
method      = { type = "text", default = "协议", doc = "需核查的出让方式" }
market_uses = { type = "text", default = "商服|商业|住宅|旅游|娱乐|工业", doc = "经营性用途(正则)" }
*/
SELECT
    contract_no,
    parcel_no,
    grantee,
    land_use,
    grant_method,
    area,
    price,
    CAST(round(CAST(price AS DOUBLE) / nullif(area, 0), 2) AS DECIMAL(18, 2)) AS unit_price,
    sign_date,
    region_code
FROM land_grants
WHERE grant_method = $method
  AND regexp_like(land_use, $market_uses)
  AND (sign_date IS NULL OR sign_date <= $as_of)
