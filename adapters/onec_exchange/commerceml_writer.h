#pragma once
// The CommerceML 2 document answered to type=sale&mode=query: the CRM's
// orders for 1C, in the shape of the contracts' samples
// (contracts/onec/commerceml/1c_official_example_orders.xml, and the
// header attributes of 1C-Bitrix's answer,
// dobromyslov_bitrix-query-response-empty.xml), UTF-8.
//
// Per order (canonical model, docs/model.md) one Документ: Ид = order_id,
// Номер = number (else order_id), Дата/Время from created_ms in Moscow
// time (UTC+3, as 1C's examples and the order mapping read them),
// ХозОперация "Заказ товара", Роль "Продавец", Валюта (RUB → "руб"), Курс 1,
// Сумма = total, Контрагенты (customer_name as Наименование, Роль
// "Покупатель"), Товары (sku as Ид, name, ЦенаЗаЕдиницу, Количество, Сумма)
// and ЗначенияРеквизитов "Статус заказа" = status. Amounts in minor units
// are written with two decimals ("6734.47"). Text is XML-escaped; what the
// order lacks is left out, not invented.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"

namespace crmhub::adapters::onec_exchange {

std::string OrdersDocument(const std::vector<nlohmann::json>& orders, SystemTime now);

}  // namespace crmhub::adapters::onec_exchange
