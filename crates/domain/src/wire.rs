//! One way to declare an enum that travels on the wire and in the database.
//!
//! [`wire_enum!`] gives every such enum the same vocabulary: `ALL`, `name()` (the spelling the
//! APIs and the database use), `id()`/`from_id()` (the numeric id where the API has one, else the
//! position), `from_name()` (exact, for stored values), `parse()` (input, with the enum's case
//! rule and one error message shape), `Display`, `FromStr` and serde as the name.

/// Declares a wire enum.
///
/// ```
/// portcullis_domain::wire_enum! {
///     /// A colour.
///     pub enum Colour: "colour", case_insensitive {
///         Red = 1 => "Red",
///         Green = 2 => "Green",
///     }
/// }
/// assert_eq!(Colour::parse("red").unwrap(), Colour::Red);
/// assert_eq!(Colour::Green.id(), 2);
/// assert_eq!(Colour::parse("blue").unwrap_err().to_string(),
///            "unknown colour 'blue': expected Red or Green");
/// ```
///
/// The case rule is `exact` or `case_insensitive` (input is also trimmed there).
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal, $case:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; 0 $(+ $crate::__count_one!($variant))+] = [$($name::$variant),+];

            /// The spelling used on the wire and in the database.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// The numeric id.
            pub fn id(self) -> i32 {
                match self { $($name::$variant => $id,)+ }
            }

            pub fn from_id(id: i32) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.id() == id)
            }

            /// Exactly the stored spelling.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.name() == name)
            }

            /// Input from a client, with this enum's case rule.
            pub fn parse(input: &str) -> Result<Self, $crate::DomainError> {
                Self::ALL
                    .into_iter()
                    .find(|v| $crate::wire::matches_case(stringify!($case), v.name(), input))
                    .ok_or_else(|| {
                        $crate::DomainError::invalid(format!(
                            "unknown {} '{}': expected {}",
                            $what,
                            input,
                            $crate::wire::one_of(&[$($wire),+])
                        ))
                    })
            }
        }

        impl $crate::wire::WireEnum for $name {
            const WHAT: &'static str = $what;
            fn name(self) -> &'static str {
                $name::name(self)
            }
            fn id(self) -> i32 {
                $name::id(self)
            }
            fn from_name(name: &str) -> Option<Self> {
                $name::from_name(name)
            }
            fn from_id(id: i32) -> Option<Self> {
                $name::from_id(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as $crate::__serde::Deserialize>::deserialize(d)?;
                Self::parse(&text).map_err($crate::__serde::de::Error::custom)
            }
        }
    };
}

/// What every [`wire_enum!`] has, for code generic over them (decoding stored values).
pub trait WireEnum: Copy + Sized + 'static {
    /// What the enum is called in error messages ("request status").
    const WHAT: &'static str;
    fn name(self) -> &'static str;
    fn id(self) -> i32;
    fn from_name(name: &str) -> Option<Self>;
    fn from_id(id: i32) -> Option<Self>;
}

/// Counts a macro repetition.
#[doc(hidden)]
#[macro_export]
macro_rules! __count_one {
    ($x:ident) => {
        1
    };
}

/// Does client input match a wire name under the case rule (`exact` or `case_insensitive`)?
#[doc(hidden)]
pub fn matches_case(rule: &str, name: &str, input: &str) -> bool {
    match rule {
        "case_insensitive" => name.eq_ignore_ascii_case(input.trim()),
        _ => name == input,
    }
}

/// "A", "A or B", "A, B or C".
#[doc(hidden)]
pub fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    crate::wire_enum! {
        enum Exact: "exact thing", exact {
            Alpha = 1 => "ALPHA",
            Beta = 7 => "BETA",
            Gamma = 9 => "GAMMA",
        }
    }

    #[test]
    fn exact_enums_refuse_other_cases() {
        assert_eq!(Exact::parse("BETA"), Ok(Exact::Beta));
        assert!(Exact::parse("beta").is_err());
        assert!(Exact::parse(" BETA").is_err());
        assert_eq!(
            Exact::parse("x").unwrap_err().to_string(),
            "unknown exact thing 'x': expected ALPHA, BETA or GAMMA"
        );
    }

    #[test]
    fn ids_names_and_serde_round_trip() {
        for v in Exact::ALL {
            assert_eq!(Exact::from_id(v.id()), Some(v));
            assert_eq!(Exact::from_name(v.name()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<Exact>(&json).unwrap(), v);
        }
        assert_eq!(Exact::from_id(2), None);
        assert!(serde_json::from_str::<Exact>("\"alpha\"").is_err());
    }
}
