//! Enums that are one word on the wire and in the registry: [`word_enum!`] writes the shape once
//! (variants and their words; `ALL`, `as_str`, `parse`, `Display`, `== "word"`, and serde as the same
//! word), so [`Trigger`](super::Trigger), [`JobState`](super::JobState) and the smaller vocabularies
//! cannot drift from the strings JSON clients and stored rows already use.

/// `word_enum! { /// docs  pub enum Name { /// docs  Variant => "word", … } }`
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $word)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($word),+].len()] = [$($name::$variant),+];

            /// The word stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $word, )+
                }
            }

            /// The value a word names; `None` for a word this build does not know.
            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A stored row's word: one this build does not know (a newer build wrote it) is an error,
        /// never a guess.
        impl TryFrom<String> for $name {
            type Error = $crate::api::UnknownWord;
            fn try_from(word: String) -> Result<Self, Self::Error> {
                $name::parse(&word).ok_or($crate::api::UnknownWord {
                    what: stringify!($name),
                    word,
                })
            }
        }

        /// `value == "word"` reads as the JSON does.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

pub(crate) use word_enum;

/// A word no value of the named vocabulary has.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
}

impl std::fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown {} `{}`", self.what, self.word)
    }
}

impl std::error::Error for UnknownWord {}

#[cfg(test)]
mod tests {
    word_enum! {
        /// A test vocabulary.
        pub enum Tide {
            High => "high",
            /// Documented variants keep their docs.
            LowWater => "low water",
        }
    }

    #[test]
    fn each_value_is_its_word_everywhere() {
        for t in Tide::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<Tide>(&json).unwrap(), t);
            assert_eq!(Tide::parse(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert_eq!(Tide::LowWater, "low water");
        assert!(Tide::parse("low_water").is_none());
        assert!(serde_json::from_str::<Tide>("\"ebb\"").is_err());
        let e = Tide::try_from("ebb".to_string()).unwrap_err();
        assert_eq!(e.to_string(), "unknown Tide `ebb`");
    }
}
